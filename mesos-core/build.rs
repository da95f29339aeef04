//! Generates the Rust types of the Mesos wire schemas in `proto/` with prost.
//!
//! protoc comes from the `protoc-bin-vendored` crate, so the build needs no system protoc.
//! Besides the types, the build writes the compiled `FileDescriptorSet`, which the JSON
//! codec reads to map messages to and from Mesos' JSON. It is written without protoc's
//! source info (comments and line spans, which nothing reads at run time): that is most
//! of its bytes, and decoding it cost every process about 25 ms at its first message.
//! From the same set it compiles the byte walkers' wire tables into Rust statics
//! (`wire_tables.rs`, see `build/wire_tables.rs`).

#[path = "src/map_field.rs"]
mod map_field;
#[path = "build/wire_tables.rs"]
mod wire_tables;

use std::path::{Path, PathBuf};

const PROTOS: &[&str] = &[
    "proto/mesos/internal/agent.proto",
    "proto/mesos/internal/registry.proto",
    "proto/mesos/mesos.proto",
    "proto/mesos/v1/mesos.proto",
    "proto/mesos/v1/agent/agent.proto",
    "proto/mesos/v1/allocator/allocator.proto",
    "proto/mesos/v1/executor/executor.proto",
    "proto/mesos/v1/maintenance/maintenance.proto",
    "proto/mesos/v1/master/master.proto",
    "proto/mesos/v1/quota/quota.proto",
    "proto/mesos/v1/scheduler/scheduler.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let well_known = protoc_bin_vendored::include_path()?;
    std::env::set_var("PROTOC", protoc);

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = prost_build::Config::new();
    config
        .file_descriptor_set_path(out_dir.join("mesos_descriptor_set.bin"))
        .include_file("mesos_protos.rs")
        .enable_type_names()
        // A DiskInfo (with its Volume and Image) is most of a Resource's size in memory;
        // boxed, a Resource without one is a fifth as large.
        .boxed(".mesos.v1.Resource.disk")
        .boxed(".mesos.Resource.disk")
        // The master holds a Task per running task: its rarely set container, health
        // check and discovery info are boxed so they cost a pointer when unset.
        .boxed(".mesos.v1.Task.container")
        .boxed(".mesos.v1.Task.health_check")
        .boxed(".mesos.v1.Task.discovery")
        // A TaskInfo with every optional part inline is 2.6 KB, most of it the executor,
        // container, checks and discovery few tasks set: an ACCEPT of a few hundred tasks
        // decoded into a megabyte or more, often fresh from the kernel.
        .boxed(".mesos.v1.TaskInfo.executor")
        .boxed(".mesos.v1.TaskInfo.container")
        .boxed(".mesos.v1.TaskInfo.health_check")
        .boxed(".mesos.v1.TaskInfo.check")
        .boxed(".mesos.v1.TaskInfo.discovery")
        .type_name_domain(["."], "type.googleapis.com");
    config.compile_protos(PROTOS, &[PathBuf::from("proto"), well_known])?;
    let set = strip_source_info(&out_dir.join("mesos_descriptor_set.bin"))?;
    std::fs::write(out_dir.join("wire_tables.rs"), wire_tables::source(&set))?;
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=src/map_field.rs");
    Ok(())
}

/// Rewrites the descriptor set at `path` without its files' source code info; returns it.
fn strip_source_info(
    path: &Path,
) -> Result<prost_types::FileDescriptorSet, Box<dyn std::error::Error>> {
    use prost::Message;
    let mut set = prost_types::FileDescriptorSet::decode(std::fs::read(path)?.as_slice())?;
    for file in &mut set.file {
        file.source_code_info = None;
    }
    std::fs::write(path, set.encode_to_vec())?;
    Ok(set)
}
