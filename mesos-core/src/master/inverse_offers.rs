//! Inverse offers: the master asks frameworks to give back what they use on machines that
//! a maintenance schedule drains, as Mesos does.
//!
//! A machine is draining while it is in a window of the schedule and not DOWN. Every
//! connected framework with tasks or offers on an agent of a draining machine gets an
//! INVERSE_OFFERS event naming the agent and the window's unavailability (no resources:
//! all of them). The framework answers with ACCEPT_INVERSE_OFFERS or
//! DECLINE_INVERSE_OFFERS; the answer is shown by GET_MAINTENANCE_STATUS (ACCEPT or
//! DECLINE, UNKNOWN while unanswered) and, after the answer's `refuse_seconds` (5 s by
//! default), the framework is asked again if it still uses the agent. An inverse offer
//! whose machine stops draining (it left the schedule or went DOWN), whose agent left or
//! whose framework disconnected is rescinded (RESCIND_INVERSE_OFFER).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::events::{self, wall_clock};
use super::operator_events::MachineKey;
use super::state::MasterState;
use crate::proto::mesos::v1::allocator::{inverse_offer_status, InverseOfferStatus};
use crate::proto::mesos::v1::scheduler::{event, Event};
use crate::proto::mesos::v1::{
    AgentId, Filters, FrameworkId, InverseOffer, OfferId, TimeInfo, Unavailability,
};

/// How often the master looks for frameworks to ask (and at once after a schedule change).
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long an answer holds when its filters give no `refuse_seconds`, as in Mesos.
const DEFAULT_REFUSE: Duration = Duration::from_secs(5);

/// An inverse offer sent and not answered yet.
#[derive(Debug)]
struct Outstanding {
    framework: String,
    agent: String,
    machine: MachineKey,
    /// When it was sent (seconds since the epoch).
    sent: f64,
}

/// The master's inverse offers: outstanding ones, answers, and when to look again.
#[derive(Debug, Default)]
pub(crate) struct InverseOffers {
    /// By inverse offer id.
    outstanding: HashMap<String, Outstanding>,
    /// Answers by machine, then framework: accepted or not, and when.
    answers: BTreeMap<MachineKey, BTreeMap<String, (bool, f64)>>,
    /// (framework, agent) pairs not asked again before the instant.
    filtered: HashMap<(String, String), Instant>,
    /// When to look for frameworks to ask next; None: at once.
    next_check: Option<Instant>,
}

impl InverseOffers {
    /// Makes the next tick look for frameworks to ask (the schedule changed).
    pub(crate) fn check_now(&mut self) {
        self.next_check = None;
    }
}

fn time_info(seconds: f64) -> TimeInfo {
    TimeInfo {
        nanoseconds: (seconds * 1e9) as i64,
    }
}

impl MasterState {
    /// The machines that are draining now, with their window's unavailability.
    fn draining_machines(&self) -> BTreeMap<MachineKey, Unavailability> {
        let mut draining = BTreeMap::new();
        for window in &self.registry_state.maintenance.windows {
            for machine in &window.machine_ids {
                let key = (machine.hostname.clone(), machine.ip.clone());
                if !self.operator.down_machines.contains(&key) {
                    draining.entry(key).or_insert(window.unavailability);
                }
            }
        }
        draining
    }

    /// Rescinds inverse offers that no longer hold and asks the frameworks that use
    /// draining machines and have not been asked (or whose answer's filter expired).
    pub(crate) fn inverse_offers_tick(&mut self, now: Instant) {
        if self
            .operator
            .inverse_offers
            .next_check
            .is_some_and(|at| at > now)
        {
            return;
        }
        self.operator.inverse_offers.next_check = Some(now + CHECK_EVERY);
        let draining = self.draining_machines();
        let stale: Vec<String> = self
            .operator
            .inverse_offers
            .outstanding
            .iter()
            .filter(|(_, o)| {
                !draining.contains_key(&o.machine)
                    || !self.agents.contains_key(&o.agent)
                    || self
                        .frameworks
                        .get(&o.framework)
                        .is_none_or(|f| !f.connected())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            self.rescind_inverse_offer(&id);
        }
        let inverse = &mut self.operator.inverse_offers;
        inverse
            .answers
            .retain(|machine, _| draining.contains_key(machine));
        inverse.filtered.retain(|_, until| *until > now);
        if draining.is_empty() {
            return;
        }
        let mut asks = Vec::new();
        for agent in self.agents.values() {
            let Some((machine, unavailability)) = draining
                .iter()
                .find(|(m, _)| super::operator_api::is_machine_of(m, &agent.info))
            else {
                continue;
            };
            let mut users: Vec<&str> = agent.tasks.iter().map(|(f, _)| f.as_str()).collect();
            users.extend(
                agent
                    .offers
                    .iter()
                    .filter_map(|o| self.offers.get(o))
                    .map(|o| o.framework.as_str()),
            );
            users.sort_unstable();
            users.dedup();
            for framework in users {
                let pair = (framework.to_string(), agent.id().to_string());
                let connected = self
                    .frameworks
                    .get(framework)
                    .is_some_and(|f| f.connected());
                let asked = inverse
                    .outstanding
                    .values()
                    .any(|o| o.framework == pair.0 && o.agent == pair.1);
                if connected && !asked && !inverse.filtered.contains_key(&pair) {
                    asks.push((pair, machine.clone(), *unavailability));
                }
            }
        }
        for ((framework, agent), machine, unavailability) in asks {
            let id = self.new_offer_id();
            let offer = InverseOffer {
                id: OfferId { value: id.clone() },
                url: None,
                framework_id: FrameworkId {
                    value: framework.clone(),
                },
                agent_id: Some(AgentId {
                    value: agent.clone(),
                }),
                unavailability,
                resources: Vec::new(),
            };
            self.send_to_framework(
                &framework,
                Event {
                    inverse_offers: Some(event::InverseOffers {
                        inverse_offers: vec![offer],
                    }),
                    ..events::event(event::Type::InverseOffers)
                },
            );
            self.operator.inverse_offers.outstanding.insert(
                id,
                Outstanding {
                    framework,
                    agent,
                    machine,
                    sent: wall_clock(),
                },
            );
        }
    }

    /// Withdraws an outstanding inverse offer: RESCIND_INVERSE_OFFER to its framework.
    fn rescind_inverse_offer(&mut self, id: &str) {
        if let Some(offer) = self.operator.inverse_offers.outstanding.remove(id) {
            self.send_to_framework(
                &offer.framework,
                Event {
                    rescind_inverse_offer: Some(event::RescindInverseOffer {
                        inverse_offer_id: OfferId {
                            value: id.to_string(),
                        },
                    }),
                    ..events::event(event::Type::RescindInverseOffer)
                },
            );
        }
    }

    /// ACCEPT_INVERSE_OFFERS (`accept`) or DECLINE_INVERSE_OFFERS from `framework`: the
    /// answer is recorded for its machine and holds for the filters' `refuse_seconds`.
    /// Ids that are not the framework's outstanding inverse offers are ignored, as Mesos
    /// ignores them.
    pub(crate) fn answer_inverse_offers(
        &mut self,
        framework: &str,
        ids: &[OfferId],
        filters: Option<&Filters>,
        accept: bool,
        now: Instant,
    ) {
        let refuse = filters
            .and_then(|f| f.refuse_seconds)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_REFUSE);
        let inverse = &mut self.operator.inverse_offers;
        for id in ids {
            let ours = inverse
                .outstanding
                .get(&id.value)
                .is_some_and(|o| o.framework == framework);
            if !ours {
                tracing::warn!(
                    "ignoring an answer of framework {framework} to unknown inverse offer {}",
                    id.value
                );
                continue;
            }
            let Some(offer) = inverse.outstanding.remove(&id.value) else {
                continue;
            };
            inverse
                .answers
                .entry(offer.machine)
                .or_default()
                .insert(offer.framework.clone(), (accept, wall_clock()));
            inverse
                .filtered
                .insert((offer.framework, offer.agent), now + refuse);
        }
    }

    /// The inverse-offer statuses of a draining machine for GET_MAINTENANCE_STATUS: each
    /// framework's answer, or UNKNOWN for an inverse offer not answered yet.
    pub(crate) fn inverse_offer_statuses(&self, machine: &MachineKey) -> Vec<InverseOfferStatus> {
        let inverse = &self.operator.inverse_offers;
        let mut statuses: BTreeMap<&str, InverseOfferStatus> = BTreeMap::new();
        for offer in inverse.outstanding.values() {
            if &offer.machine == machine {
                statuses.insert(
                    &offer.framework,
                    InverseOfferStatus {
                        status: inverse_offer_status::Status::Unknown as i32,
                        framework_id: FrameworkId {
                            value: offer.framework.clone(),
                        },
                        timestamp: time_info(offer.sent),
                    },
                );
            }
        }
        for (framework, (accepted, at)) in inverse.answers.get(machine).into_iter().flatten() {
            let status = if *accepted {
                inverse_offer_status::Status::Accept
            } else {
                inverse_offer_status::Status::Decline
            };
            statuses.insert(
                framework,
                InverseOfferStatus {
                    status: status as i32,
                    framework_id: FrameworkId {
                        value: framework.clone(),
                    },
                    timestamp: time_info(*at),
                },
            );
        }
        statuses.into_values().collect()
    }
}
