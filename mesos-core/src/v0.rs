//! The classic driver APIs over serialized v0 messages, for language bindings.
//!
//! Apache Mesos' Python (`mesos_pb2`) and Java (`org.apache.mesos.Protos`) driver APIs
//! speak the v0 schema, package `mesos` (`SlaveID`, `slave_id`); our drivers speak v1.
//! The two schemas share field numbers, so a message converts between them through its
//! bytes: the encoding of a v1 message is the encoding of its v0 counterpart ([`convert`]).
//!
//! A binding hands this layer the bytes its own protobuf runtime serialized and gets bytes
//! back, so it needs no Rust types of its own:
//! - [`V0Scheduler`] is the scheduler callbacks with every message as v0 bytes, and
//!   [`V0SchedulerAdapter`] makes it the [`Scheduler`] a [`SchedulerDriver`] drives;
//! - [`V0SchedulerDriver`] is the driver's methods taking v0 bytes;
//! - [`V0Executor`], [`V0ExecutorAdapter`] and [`V0ExecutorDriver`] are the same for
//!   executors.
//!
//! Bytes that do not decode are a [`V0Error::Decode`], naming the message expected.

use prost::{DecodeError, Message};

use crate::executor::{self, Executor, ExecutorDriver};
use crate::proto::mesos::v1::{
    AgentId, AgentInfo, Credential, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    MasterInfo, Offer, OfferId, Request, Status, TaskId, TaskInfo, TaskStatus,
};
use crate::scheduler::driver::{DriverError, DriverOptions};
use crate::scheduler::{detector_for, Scheduler, SchedulerDriver};

/// Converts a message to its counterpart in the other schema (v1 to v0 or back) through
/// its bytes; fails only when `B` cannot read what `A` wrote (the types do not match).
pub fn convert<A: Message, B: Message + Default>(message: &A) -> Result<B, DecodeError> {
    B::decode(message.encode_to_vec().as_slice())
}

/// Why a call of the v0 layer failed.
#[derive(Debug, thiserror::Error)]
pub enum V0Error {
    /// The bytes given for a message are not a valid encoding of it.
    #[error("invalid {message}: {source}")]
    Decode {
        /// The v0 message expected, e.g. `mesos.TaskInfo`.
        message: &'static str,
        /// What the decoder found wrong.
        source: DecodeError,
    },
    /// The scheduler driver could not be made.
    #[error(transparent)]
    SchedulerDriver(#[from] DriverError),
    /// The executor driver could not be made.
    #[error(transparent)]
    ExecutorDriver(#[from] executor::DriverError),
}

/// Decodes the v0 bytes of the message named `name` into its v1 type.
fn decode<M: Message + Default>(name: &'static str, bytes: &[u8]) -> Result<M, V0Error> {
    M::decode(bytes).map_err(|source| V0Error::Decode {
        message: name,
        source,
    })
}

/// Decodes every element of `items` as the v0 message named `name`.
fn decode_all<M: Message + Default>(
    name: &'static str,
    items: &[impl AsRef<[u8]>],
) -> Result<Vec<M>, V0Error> {
    items
        .iter()
        .map(|bytes| decode(name, bytes.as_ref()))
        .collect()
}

/// A framework's scheduler seen through the v0 schema: the callbacks of [`Scheduler`]
/// with every message as the serialized v0 message (`mesos.FrameworkID`, `mesos.Offer`,
/// `mesos.SlaveID`, ...). Adapt one with [`V0SchedulerAdapter`].
pub trait V0Scheduler: Send + 'static {
    /// Registered with the master: `mesos.FrameworkID` and `mesos.MasterInfo`.
    fn registered(&mut self, driver: &SchedulerDriver, framework_id: &[u8], master_info: &[u8]);
    /// Registered again after a lost master: `mesos.MasterInfo`.
    fn reregistered(&mut self, driver: &SchedulerDriver, master_info: &[u8]);
    /// The master was lost.
    fn disconnected(&mut self, driver: &SchedulerDriver);
    /// Offers: one `mesos.Offer` each.
    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Vec<u8>>);
    /// An offer was rescinded: `mesos.OfferID`.
    fn offer_rescinded(&mut self, driver: &SchedulerDriver, offer_id: &[u8]);
    /// A task's status changed: `mesos.TaskStatus`.
    fn status_update(&mut self, driver: &SchedulerDriver, status: &[u8]);
    /// An executor's message: `mesos.ExecutorID`, `mesos.SlaveID` and the data.
    fn framework_message(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &[u8],
        slave_id: &[u8],
        data: &[u8],
    );
    /// An agent was lost: `mesos.SlaveID`.
    fn slave_lost(&mut self, driver: &SchedulerDriver, slave_id: &[u8]);
    /// An executor was lost: `mesos.ExecutorID`, `mesos.SlaveID` and its exit status.
    fn executor_lost(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &[u8],
        slave_id: &[u8],
        status: i32,
    );
    /// An unrecoverable error; the driver aborts when this returns.
    fn error(&mut self, driver: &SchedulerDriver, message: &str);
}

/// Makes a [`V0Scheduler`] the [`Scheduler`] of a driver: each v1 message of a callback is
/// passed on as its encoding, which is the v0 message's.
#[derive(Debug)]
pub struct V0SchedulerAdapter<S>(pub S);

impl<S: V0Scheduler> Scheduler for V0SchedulerAdapter<S> {
    fn registered(&mut self, driver: &SchedulerDriver, framework_id: &FrameworkId, m: &MasterInfo) {
        self.0
            .registered(driver, &framework_id.encode_to_vec(), &m.encode_to_vec());
    }

    fn reregistered(&mut self, driver: &SchedulerDriver, master: &MasterInfo) {
        self.0.reregistered(driver, &master.encode_to_vec());
    }

    fn disconnected(&mut self, driver: &SchedulerDriver) {
        self.0.disconnected(driver);
    }

    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let offers = offers.iter().map(Message::encode_to_vec).collect();
        self.0.resource_offers(driver, offers);
    }

    fn offer_rescinded(&mut self, driver: &SchedulerDriver, offer_id: &OfferId) {
        self.0.offer_rescinded(driver, &offer_id.encode_to_vec());
    }

    fn status_update(&mut self, driver: &SchedulerDriver, status: &TaskStatus) {
        self.0.status_update(driver, &status.encode_to_vec());
    }

    fn framework_message(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        data: &[u8],
    ) {
        self.0.framework_message(
            driver,
            &executor_id.encode_to_vec(),
            &agent_id.encode_to_vec(),
            data,
        );
    }

    fn slave_lost(&mut self, driver: &SchedulerDriver, agent_id: &AgentId) {
        self.0.slave_lost(driver, &agent_id.encode_to_vec());
    }

    fn executor_lost(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        status: i32,
    ) {
        self.0.executor_lost(
            driver,
            &executor_id.encode_to_vec(),
            &agent_id.encode_to_vec(),
            status,
        );
    }

    fn error(&mut self, driver: &SchedulerDriver, message: &str) {
        self.0.error(driver, message);
    }
}

/// A [`SchedulerDriver`] whose methods take serialized v0 messages. Cheap to clone.
#[derive(Debug, Clone)]
pub struct V0SchedulerDriver {
    driver: SchedulerDriver,
}

impl V0SchedulerDriver {
    /// A driver for the `mesos.FrameworkInfo` in `framework` at `master` (`host:port`, a
    /// list of them, or `zk://`), with `suppressed_roles` suppressed from the start.
    /// `credential`, a `mesos.Credential`, is checked but not used: the driver's HTTP
    /// client does not authenticate.
    pub fn new(
        scheduler: impl V0Scheduler,
        framework: &[u8],
        suppressed_roles: Vec<String>,
        master: &str,
        implicit_acknowledgements: bool,
        credential: Option<&[u8]>,
    ) -> Result<V0SchedulerDriver, V0Error> {
        let framework: FrameworkInfo = decode("mesos.FrameworkInfo", framework)?;
        if let Some(credential) = credential {
            let credential: Credential = decode("mesos.Credential", credential)?;
            tracing::warn!(
                "credential of principal '{}' ignored: the driver does not authenticate",
                credential.principal
            );
        }
        let mut options = DriverOptions {
            implicit_acknowledgements,
            ..DriverOptions::default()
        };
        options.session.suppressed_roles = suppressed_roles;
        let driver = SchedulerDriver::with_options(
            V0SchedulerAdapter(scheduler),
            framework,
            detector_for(master).map_err(DriverError::from)?,
            options,
        )?;
        Ok(V0SchedulerDriver { driver })
    }

    /// The v1 driver underneath, for `start`, `stop`, `abort`, `join`, `run` and `status`.
    pub fn driver(&self) -> &SchedulerDriver {
        &self.driver
    }

    /// Launches the `mesos.TaskInfo`s on the `mesos.OfferID`s' resources, with optional
    /// `mesos.Filters`.
    pub fn launch_tasks(
        &self,
        offer_ids: &[impl AsRef<[u8]>],
        tasks: &[impl AsRef<[u8]>],
        filters: Option<&[u8]>,
    ) -> Result<Status, V0Error> {
        let offer_ids: Vec<OfferId> = decode_all("mesos.OfferID", offer_ids)?;
        let tasks = decode_all("mesos.TaskInfo", tasks)?;
        let filters = decode_filters(filters)?;
        Ok(self.driver.launch_tasks(&offer_ids, tasks, filters))
    }

    /// Accepts the `mesos.OfferID`s with `mesos.Offer.Operation`s.
    pub fn accept_offers(
        &self,
        offer_ids: &[impl AsRef<[u8]>],
        operations: &[impl AsRef<[u8]>],
        filters: Option<&[u8]>,
    ) -> Result<Status, V0Error> {
        let offer_ids: Vec<OfferId> = decode_all("mesos.OfferID", offer_ids)?;
        let operations = decode_all("mesos.Offer.Operation", operations)?;
        let filters = decode_filters(filters)?;
        Ok(self.driver.accept_offers(&offer_ids, operations, filters))
    }

    /// Declines a `mesos.OfferID`.
    pub fn decline_offer(
        &self,
        offer_id: &[u8],
        filters: Option<&[u8]>,
    ) -> Result<Status, V0Error> {
        let offer_id: OfferId = decode("mesos.OfferID", offer_id)?;
        let filters = decode_filters(filters)?;
        Ok(self.driver.decline_offer(&offer_id, filters))
    }

    /// Kills the task of a `mesos.TaskID`.
    pub fn kill_task(&self, task_id: &[u8]) -> Result<Status, V0Error> {
        let task_id: TaskId = decode("mesos.TaskID", task_id)?;
        Ok(self.driver.kill_task(&task_id))
    }

    /// Acknowledges a `mesos.TaskStatus` (explicit acknowledgements only).
    pub fn acknowledge_status_update(&self, status: &[u8]) -> Result<Status, V0Error> {
        let status: TaskStatus = decode("mesos.TaskStatus", status)?;
        Ok(self.driver.acknowledge_status_update(&status))
    }

    /// Sends data to an executor: `mesos.ExecutorID` and `mesos.SlaveID`.
    pub fn send_framework_message(
        &self,
        executor_id: &[u8],
        slave_id: &[u8],
        data: Vec<u8>,
    ) -> Result<Status, V0Error> {
        let executor_id: ExecutorId = decode("mesos.ExecutorID", executor_id)?;
        let agent_id: AgentId = decode("mesos.SlaveID", slave_id)?;
        Ok(self
            .driver
            .send_framework_message(&executor_id, &agent_id, data))
    }

    /// Reconciles the tasks of the `mesos.TaskStatus`es (all tasks when empty).
    pub fn reconcile_tasks(&self, statuses: &[impl AsRef<[u8]>]) -> Result<Status, V0Error> {
        let statuses: Vec<TaskStatus> = decode_all("mesos.TaskStatus", statuses)?;
        Ok(self.driver.reconcile_tasks(&statuses))
    }

    /// Asks for resources: `mesos.Request`s.
    pub fn request_resources(&self, requests: &[impl AsRef<[u8]>]) -> Result<Status, V0Error> {
        let requests: Vec<Request> = decode_all("mesos.Request", requests)?;
        Ok(self.driver.request_resources(requests))
    }

    /// Replaces the framework's `mesos.FrameworkInfo`, its suppressed roles and, when
    /// given, its `mesos.scheduler.OfferConstraints`.
    pub fn update_framework(
        &self,
        framework: &[u8],
        suppressed_roles: Vec<String>,
        offer_constraints: Option<&[u8]>,
    ) -> Result<Status, V0Error> {
        let framework: FrameworkInfo = decode("mesos.FrameworkInfo", framework)?;
        let offer_constraints = offer_constraints
            .map(|c| decode("mesos.scheduler.OfferConstraints", c))
            .transpose()?;
        Ok(self
            .driver
            .update_framework(framework, suppressed_roles, offer_constraints))
    }
}

fn decode_filters(filters: Option<&[u8]>) -> Result<Option<Filters>, V0Error> {
    filters.map(|f| decode("mesos.Filters", f)).transpose()
}

/// An executor seen through the v0 schema: the callbacks of [`Executor`] with every
/// message as the serialized v0 message. Adapt one with [`V0ExecutorAdapter`].
pub trait V0Executor: Send + 'static {
    /// Registered with the agent: `mesos.ExecutorInfo`, `mesos.FrameworkInfo`,
    /// `mesos.SlaveInfo`.
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor_info: &[u8],
        framework_info: &[u8],
        slave_info: &[u8],
    );
    /// Registered again with a restarted agent: `mesos.SlaveInfo`.
    fn reregistered(&mut self, driver: &ExecutorDriver, slave_info: &[u8]);
    /// The agent was lost.
    fn disconnected(&mut self, driver: &ExecutorDriver);
    /// A task to run: `mesos.TaskInfo`.
    fn launch_task(&mut self, driver: &ExecutorDriver, task: &[u8]);
    /// A task to kill: `mesos.TaskID`.
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &[u8]);
    /// A message from the scheduler.
    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]);
    /// The executor must end its tasks and exit.
    fn shutdown(&mut self, driver: &ExecutorDriver);
    /// An unrecoverable error; the driver aborts when this returns.
    fn error(&mut self, driver: &ExecutorDriver, message: &str);
}

/// Makes a [`V0Executor`] the [`Executor`] of a driver, as [`V0SchedulerAdapter`] does
/// for schedulers.
#[derive(Debug)]
pub struct V0ExecutorAdapter<E>(pub E);

impl<E: V0Executor> Executor for V0ExecutorAdapter<E> {
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor: &ExecutorInfo,
        framework: &FrameworkInfo,
        agent: &AgentInfo,
    ) {
        self.0.registered(
            driver,
            &executor.encode_to_vec(),
            &framework.encode_to_vec(),
            &agent.encode_to_vec(),
        );
    }

    fn reregistered(&mut self, driver: &ExecutorDriver, agent: &AgentInfo) {
        self.0.reregistered(driver, &agent.encode_to_vec());
    }

    fn disconnected(&mut self, driver: &ExecutorDriver) {
        self.0.disconnected(driver);
    }

    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        self.0.launch_task(driver, &task.encode_to_vec());
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskId) {
        self.0.kill_task(driver, &task_id.encode_to_vec());
    }

    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]) {
        self.0.framework_message(driver, data);
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        self.0.shutdown(driver);
    }

    fn error(&mut self, driver: &ExecutorDriver, message: &str) {
        self.0.error(driver, message);
    }
}

/// An [`ExecutorDriver`] whose methods take serialized v0 messages. Cheap to clone.
#[derive(Debug, Clone)]
pub struct V0ExecutorDriver {
    driver: ExecutorDriver,
}

impl V0ExecutorDriver {
    /// A driver for `executor`, configured by the `MESOS_*` environment the agent started
    /// this process with.
    pub fn new(executor: impl V0Executor) -> Result<V0ExecutorDriver, V0Error> {
        Ok(V0ExecutorDriver {
            driver: ExecutorDriver::new(V0ExecutorAdapter(executor))?,
        })
    }

    /// The v1 driver underneath, for `start`, `stop`, `abort`, `join`, `run` and `status`.
    pub fn driver(&self) -> &ExecutorDriver {
        &self.driver
    }

    /// Sends a `mesos.TaskStatus` to the scheduler.
    pub fn send_status_update(&self, status: &[u8]) -> Result<Status, V0Error> {
        let status: TaskStatus = decode("mesos.TaskStatus", status)?;
        Ok(self.driver.send_status_update(status))
    }

    /// Sends data to the scheduler.
    pub fn send_framework_message(&self, data: Vec<u8>) -> Status {
        self.driver.send_framework_message(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos as v0;
    use crate::proto::mesos::v1;

    fn v1_offer() -> v1::Offer {
        v1::Offer {
            id: v1::OfferId { value: "o1".into() },
            framework_id: v1::FrameworkId { value: "f1".into() },
            agent_id: v1::AgentId { value: "a1".into() },
            hostname: "host".into(),
            resources: vec![v1::Resource {
                name: "cpus".into(),
                r#type: v1::value::Type::Scalar as i32,
                scalar: Some(v1::value::Scalar { value: 2.5 }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_v1_offer_becomes_a_v0_offer_with_its_agent_as_slave_id_and_back() {
        let offer = v1_offer();
        let old: v0::Offer = convert(&offer).unwrap();
        assert_eq!(old.id.value, "o1");
        assert_eq!(old.slave_id.value, "a1");
        assert_eq!(old.framework_id.value, "f1");
        assert_eq!(old.hostname, "host");
        assert_eq!(old.resources[0].name, "cpus");
        assert_eq!(old.resources[0].scalar.as_ref().unwrap().value, 2.5);
        let back: v1::Offer = convert(&old).unwrap();
        assert_eq!(back, offer);
    }

    #[test]
    fn a_v0_task_status_becomes_a_v1_one() {
        let status = v0::TaskStatus {
            task_id: v0::TaskId { value: "t".into() },
            state: v0::TaskState::TaskKilled as i32,
            slave_id: Some(v0::SlaveId { value: "s".into() }),
            uuid: Some(vec![1, 2, 3]),
            ..Default::default()
        };
        let new: v1::TaskStatus = convert(&status).unwrap();
        assert_eq!(new.state, v1::TaskState::TaskKilled as i32);
        assert_eq!(new.agent_id.unwrap().value, "s");
        assert_eq!(new.uuid, Some(vec![1, 2, 3]));
    }

    #[test]
    fn bytes_that_are_not_the_message_are_a_decode_error_naming_it() {
        let error = decode::<v1::TaskInfo>("mesos.TaskInfo", b"\xff\xff\xff").unwrap_err();
        assert!(matches!(
            error,
            V0Error::Decode {
                message: "mesos.TaskInfo",
                ..
            }
        ));
        assert!(
            error.to_string().starts_with("invalid mesos.TaskInfo"),
            "{error}"
        );
    }

    /// Records the v0 callbacks it gets.
    struct Recording(Vec<(String, Vec<u8>)>);

    impl V0Scheduler for Recording {
        fn registered(&mut self, _: &SchedulerDriver, id: &[u8], _: &[u8]) {
            self.0.push(("registered".into(), id.to_vec()));
        }
        fn reregistered(&mut self, _: &SchedulerDriver, _: &[u8]) {}
        fn disconnected(&mut self, _: &SchedulerDriver) {}
        fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Vec<u8>>) {
            for offer in offers {
                self.0.push(("offer".into(), offer));
            }
        }
        fn offer_rescinded(&mut self, _: &SchedulerDriver, _: &[u8]) {}
        fn status_update(&mut self, _: &SchedulerDriver, _: &[u8]) {}
        fn framework_message(&mut self, _: &SchedulerDriver, _: &[u8], _: &[u8], _: &[u8]) {}
        fn slave_lost(&mut self, _: &SchedulerDriver, slave_id: &[u8]) {
            self.0.push(("slave_lost".into(), slave_id.to_vec()));
        }
        fn executor_lost(&mut self, _: &SchedulerDriver, _: &[u8], _: &[u8], _: i32) {}
        fn error(&mut self, _: &SchedulerDriver, _: &str) {}
    }

    #[test]
    fn the_adapter_hands_the_scheduler_v0_bytes() {
        let driver = SchedulerDriver::new(
            V0SchedulerAdapter(Recording(Vec::new())),
            v1::FrameworkInfo::default(),
            "127.0.0.1:1",
        )
        .unwrap();
        let mut adapter = V0SchedulerAdapter(Recording(Vec::new()));
        adapter.registered(
            &driver,
            &v1::FrameworkId { value: "f".into() },
            &v1::MasterInfo::default(),
        );
        adapter.resource_offers(&driver, vec![v1_offer()]);
        adapter.slave_lost(&driver, &v1::AgentId { value: "a9".into() });
        let calls = adapter.0 .0;
        let id = v0::FrameworkId::decode(calls[0].1.as_slice()).unwrap();
        assert_eq!(id.value, "f");
        let offer = v0::Offer::decode(calls[1].1.as_slice()).unwrap();
        assert_eq!(offer.slave_id.value, "a1");
        let slave = v0::SlaveId::decode(calls[2].1.as_slice()).unwrap();
        assert_eq!(
            (calls[2].0.as_str(), slave.value.as_str()),
            ("slave_lost", "a9")
        );
    }

    #[test]
    fn driver_methods_reject_bytes_that_do_not_decode_and_take_ones_that_do() {
        let driver = V0SchedulerDriver::new(
            Recording(Vec::new()),
            &v0::FrameworkInfo {
                user: "u".into(),
                name: "n".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            Vec::new(),
            "127.0.0.1:1",
            true,
            None,
        )
        .unwrap();
        let task = v0::TaskId { value: "t".into() }.encode_to_vec();
        assert_eq!(driver.kill_task(&task).unwrap(), Status::DriverNotStarted);
        let error = driver
            .launch_tasks(&[b"\x0a\xff".to_vec()], &[task], None)
            .unwrap_err();
        assert!(error.to_string().contains("mesos.OfferID"), "{error}");
        assert!(matches!(
            V0SchedulerDriver::new(
                Recording(Vec::new()),
                b"\xff",
                Vec::new(),
                "127.0.0.1:1",
                true,
                None,
            ),
            Err(V0Error::Decode {
                message: "mesos.FrameworkInfo",
                ..
            })
        ));
    }

    /// Records the v0 tasks it is given.
    struct Tasks(Vec<Vec<u8>>);

    impl V0Executor for Tasks {
        fn registered(&mut self, _: &ExecutorDriver, _: &[u8], _: &[u8], _: &[u8]) {}
        fn reregistered(&mut self, _: &ExecutorDriver, _: &[u8]) {}
        fn disconnected(&mut self, _: &ExecutorDriver) {}
        fn launch_task(&mut self, _: &ExecutorDriver, task: &[u8]) {
            self.0.push(task.to_vec());
        }
        fn kill_task(&mut self, _: &ExecutorDriver, _: &[u8]) {}
        fn framework_message(&mut self, _: &ExecutorDriver, _: &[u8]) {}
        fn shutdown(&mut self, _: &ExecutorDriver) {}
        fn error(&mut self, _: &ExecutorDriver, _: &str) {}
    }

    #[test]
    fn the_executor_adapter_hands_the_executor_v0_tasks() {
        let env = crate::executor::ExecutorEnvironment::from_vars([
            ("MESOS_AGENT_ENDPOINT", "127.0.0.1:1"),
            ("MESOS_FRAMEWORK_ID", "f"),
            ("MESOS_EXECUTOR_ID", "e"),
            ("MESOS_DIRECTORY", "/tmp"),
        ])
        .unwrap();
        let driver = ExecutorDriver::with_environment(V0ExecutorAdapter(Tasks(Vec::new())), env);
        let mut adapter = V0ExecutorAdapter(Tasks(Vec::new()));
        let task = v1::TaskInfo {
            name: "t".into(),
            task_id: v1::TaskId { value: "t".into() },
            agent_id: v1::AgentId { value: "a".into() },
            ..Default::default()
        };
        adapter.launch_task(&driver, task);
        let old = v0::TaskInfo::decode(adapter.0 .0[0].as_slice()).unwrap();
        assert_eq!(
            (old.task_id.value.as_str(), old.slave_id.value.as_str()),
            ("t", "a")
        );
    }
}
