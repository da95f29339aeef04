//! Disk resource details: where the disk comes from (PATH, MOUNT, BLOCK, RAW) and
//! persistent volumes made on it.
//!
//! Identity follows Mesos: two `DiskInfo`s are the same disk when their sources are equal
//! and their persistence ids are equal. The `volume` (how a task mounts the disk) and the
//! persistence principal are carried along but ignored by equality, ordering and hashing,
//! because a framework may use one volume with a different mount each time.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::error::ResourceError;
use super::reservation::Labels;
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::resource::disk_info::source::Type as PbSourceType;
use crate::proto::mesos::v1::resource::disk_info::{self as pbd};

/// The kind of a disk source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiskSourceType {
    /// A directory on a shared filesystem; divisible.
    Path,
    /// A whole mounted filesystem; used only whole.
    Mount,
    /// A block device; used only whole.
    Block,
    /// Raw storage from a resource provider; used only whole if it has an id.
    Raw,
}

impl DiskSourceType {
    /// The proto enum value.
    pub fn to_proto(self) -> PbSourceType {
        match self {
            DiskSourceType::Path => PbSourceType::Path,
            DiskSourceType::Mount => PbSourceType::Mount,
            DiskSourceType::Block => PbSourceType::Block,
            DiskSourceType::Raw => PbSourceType::Raw,
        }
    }
}

/// The `root` of a PATH or MOUNT source (which may itself be unset).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceRoot {
    /// Directory of the path or mount point, if given.
    pub root: Option<String>,
}

/// Where a disk resource comes from, as in `Resource.DiskInfo.Source`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiskSource {
    /// The kind of source.
    pub kind: DiskSourceType,
    /// For PATH sources.
    pub path: Option<SourceRoot>,
    /// For MOUNT sources.
    pub mount: Option<SourceRoot>,
    /// CSI plugin vendor.
    pub vendor: Option<String>,
    /// CSI volume id.
    pub id: Option<String>,
    /// CSI volume metadata.
    pub metadata: Option<Labels>,
    /// Storage profile.
    pub profile: Option<String>,
}

impl DiskSource {
    /// A source of `kind` with every optional field unset.
    pub fn new(kind: DiskSourceType) -> DiskSource {
        DiskSource {
            kind,
            path: None,
            mount: None,
            vendor: None,
            id: None,
            metadata: None,
            profile: None,
        }
    }

    /// A MOUNT source at `root`.
    pub fn mount(root: impl Into<String>) -> DiskSource {
        DiskSource {
            mount: Some(SourceRoot {
                root: Some(root.into()),
            }),
            ..DiskSource::new(DiskSourceType::Mount)
        }
    }

    /// A PATH source at `root`.
    pub fn path(root: impl Into<String>) -> DiskSource {
        DiskSource {
            path: Some(SourceRoot {
                root: Some(root.into()),
            }),
            ..DiskSource::new(DiskSourceType::Path)
        }
    }

    /// Reads and validates a proto source: known type, and no `path`/`mount` on BLOCK/RAW.
    pub fn from_proto(proto: &pbd::Source) -> Result<DiskSource, ResourceError> {
        let kind = match PbSourceType::try_from(proto.r#type) {
            Ok(PbSourceType::Path) => DiskSourceType::Path,
            Ok(PbSourceType::Mount) => DiskSourceType::Mount,
            Ok(PbSourceType::Block) => DiskSourceType::Block,
            Ok(PbSourceType::Raw) => DiskSourceType::Raw,
            _ => return Err(ResourceError::UnknownDiskSource(proto.r#type)),
        };
        if matches!(kind, DiskSourceType::Block | DiskSourceType::Raw) {
            let name = if kind == DiskSourceType::Block {
                "BLOCK"
            } else {
                "RAW"
            };
            if proto.mount.is_some() {
                return Err(ResourceError::DiskSourceField {
                    kind: name,
                    field: "mount",
                });
            }
            if proto.path.is_some() {
                return Err(ResourceError::DiskSourceField {
                    kind: name,
                    field: "path",
                });
            }
        }
        Ok(DiskSource {
            kind,
            path: proto.path.as_ref().map(|p| SourceRoot {
                root: p.root.clone(),
            }),
            mount: proto.mount.as_ref().map(|m| SourceRoot {
                root: m.root.clone(),
            }),
            vendor: proto.vendor.clone(),
            id: proto.id.clone(),
            metadata: proto.metadata.as_ref().map(Labels::from_proto),
            profile: proto.profile.clone(),
        })
    }

    /// Writes the proto source.
    pub fn to_proto(&self) -> pbd::Source {
        pbd::Source {
            r#type: self.kind.to_proto() as i32,
            path: self.path.as_ref().map(|p| pbd::source::Path {
                root: p.root.clone(),
            }),
            mount: self.mount.as_ref().map(|m| pbd::source::Mount {
                root: m.root.clone(),
            }),
            vendor: self.vendor.clone(),
            id: self.id.clone(),
            metadata: self.metadata.as_ref().map(Labels::to_proto),
            profile: self.profile.clone(),
        }
    }
}

/// Writes Mesos' form: `MOUNT:/mnt/a`, `PATH`, `RAW(vendor,id,profile)`.
impl fmt::Display for DiskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.kind.to_proto().as_str_name();
        f.write_str(name)?;
        if self.id.is_some() || self.profile.is_some() {
            return write!(
                f,
                "({},{},{})",
                self.vendor.as_deref().unwrap_or(""),
                self.id.as_deref().unwrap_or(""),
                self.profile.as_deref().unwrap_or("")
            );
        }
        let root = match self.kind {
            DiskSourceType::Path => self.path.as_ref(),
            DiskSourceType::Mount => self.mount.as_ref(),
            _ => None,
        };
        if let Some(root) = root.and_then(|r| r.root.as_deref()) {
            write!(f, ":{root}")?;
        }
        Ok(())
    }
}

/// The persistent volume made on a disk: its id and the principal that created it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Persistence {
    /// The volume id, unique per role on an agent. Part of the disk's identity.
    pub id: String,
    /// Who created the volume. Not part of the disk's identity.
    pub principal: Option<String>,
}

/// Disk details of a `disk` resource. See the module doc for what equality compares.
#[derive(Clone, Debug, Default)]
pub struct DiskInfo {
    source: Option<DiskSource>,
    persistence: Option<Persistence>,
    volume: Option<pb::Volume>,
}

impl DiskInfo {
    /// Disk info with nothing set.
    pub fn new() -> DiskInfo {
        DiskInfo::default()
    }

    /// Sets the source.
    pub fn with_source(mut self, source: DiskSource) -> DiskInfo {
        self.source = Some(source);
        self
    }

    /// Makes this a persistent volume with `id`, created by `principal`.
    pub fn with_persistence(
        mut self,
        id: impl Into<String>,
        principal: Option<String>,
    ) -> DiskInfo {
        self.persistence = Some(Persistence {
            id: id.into(),
            principal,
        });
        self
    }

    /// Sets how the volume is mounted into a container.
    pub fn with_volume(mut self, volume: pb::Volume) -> DiskInfo {
        self.volume = Some(volume);
        self
    }

    /// Reads and validates a proto `DiskInfo`.
    pub fn from_proto(proto: &pb::resource::DiskInfo) -> Result<DiskInfo, ResourceError> {
        Ok(DiskInfo {
            source: proto
                .source
                .as_ref()
                .map(DiskSource::from_proto)
                .transpose()?,
            persistence: proto.persistence.as_ref().map(|p| Persistence {
                id: p.id.clone(),
                principal: p.principal.clone(),
            }),
            volume: proto.volume.clone(),
        })
    }

    /// Writes the proto `DiskInfo`.
    pub fn to_proto(&self) -> pb::resource::DiskInfo {
        pb::resource::DiskInfo {
            persistence: self.persistence.as_ref().map(|p| pbd::Persistence {
                id: p.id.clone(),
                principal: p.principal.clone(),
            }),
            volume: self.volume.clone(),
            source: self.source.as_ref().map(DiskSource::to_proto),
        }
    }

    /// The source, if any.
    pub fn source(&self) -> Option<&DiskSource> {
        self.source.as_ref()
    }

    /// The persistent volume, if this disk is one.
    pub fn persistence(&self) -> Option<&Persistence> {
        self.persistence.as_ref()
    }

    /// How the volume is mounted, if given.
    pub fn volume(&self) -> Option<&pb::Volume> {
        self.volume.as_ref()
    }

    /// Whether this disk may only be used whole (never merged or split): a persistent
    /// volume, a MOUNT or BLOCK disk, or a RAW disk with an id.
    pub fn is_atomic(&self) -> bool {
        if self.persistence.is_some() {
            return true;
        }
        match &self.source {
            Some(s) => match s.kind {
                DiskSourceType::Mount | DiskSourceType::Block => true,
                DiskSourceType::Raw => s.id.is_some(),
                DiskSourceType::Path => false,
            },
            None => false,
        }
    }

    fn identity(&self) -> (Option<&DiskSource>, Option<&str>) {
        (
            self.source.as_ref(),
            self.persistence.as_ref().map(|p| p.id.as_str()),
        )
    }
}

impl PartialEq for DiskInfo {
    fn eq(&self, other: &DiskInfo) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for DiskInfo {}

impl PartialOrd for DiskInfo {
    fn partial_cmp(&self, other: &DiskInfo) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DiskInfo {
    fn cmp(&self, other: &DiskInfo) -> Ordering {
        self.identity().cmp(&other.identity())
    }
}

impl Hash for DiskInfo {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

/// Writes Mesos' form: `MOUNT:/mnt,volume-id:host:container:rw`.
impl fmt::Display for DiskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            write!(f, "{s}")?;
        }
        if let Some(p) = &self.persistence {
            if self.source.is_some() {
                f.write_str(",")?;
            }
            f.write_str(&p.id)?;
        }
        if let Some(v) = &self.volume {
            f.write_str(":")?;
            if let Some(host) = &v.host_path {
                write!(f, "{host}:")?;
            }
            f.write_str(&v.container_path)?;
            if v.host_path.is_some() {
                match pb::volume::Mode::try_from(v.mode) {
                    Ok(pb::volume::Mode::Rw) => f.write_str(":rw")?,
                    Ok(pb::volume::Mode::Ro) => f.write_str(":ro")?,
                    Err(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_ignores_volume_and_principal() {
        let volume = |path: &str| pb::Volume {
            mode: pb::volume::Mode::Rw as i32,
            container_path: path.into(),
            ..Default::default()
        };
        let a = DiskInfo::new()
            .with_persistence("v1", Some("alice".into()))
            .with_volume(volume("/a"));
        let b = DiskInfo::new()
            .with_persistence("v1", Some("bob".into()))
            .with_volume(volume("/b"));
        assert_eq!(a, b);
        assert_ne!(a, DiskInfo::new().with_persistence("v2", None));
    }

    #[test]
    fn atomicity() {
        assert!(!DiskInfo::new().is_atomic());
        assert!(!DiskInfo::new()
            .with_source(DiskSource::path("/p"))
            .is_atomic());
        assert!(DiskInfo::new()
            .with_source(DiskSource::mount("/m"))
            .is_atomic());
        assert!(DiskInfo::new().with_persistence("v", None).is_atomic());
        let raw = DiskSource::new(DiskSourceType::Raw);
        assert!(!DiskInfo::new().with_source(raw.clone()).is_atomic());
        let raw_id = DiskSource {
            id: Some("x".into()),
            ..raw
        };
        assert!(DiskInfo::new().with_source(raw_id).is_atomic());
    }

    #[test]
    fn source_validation() {
        let mut p = DiskSource::mount("/m").to_proto();
        p.r#type = PbSourceType::Block as i32;
        assert!(matches!(
            DiskSource::from_proto(&p),
            Err(ResourceError::DiskSourceField { field: "mount", .. })
        ));
        p.r#type = 0;
        assert_eq!(
            DiskSource::from_proto(&p),
            Err(ResourceError::UnknownDiskSource(0))
        );
    }

    #[test]
    fn display() {
        let d = DiskInfo::new()
            .with_source(DiskSource::mount("/mnt/a"))
            .with_persistence("vol", None)
            .with_volume(pb::Volume {
                mode: pb::volume::Mode::Rw as i32,
                container_path: "data".into(),
                host_path: Some("/h".into()),
                ..Default::default()
            });
        assert_eq!(d.to_string(), "MOUNT:/mnt/a,vol:/h:data:rw");
    }
}
