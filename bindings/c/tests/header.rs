//! The checked-in C header, `include/mesos/mesos.h`, is what cbindgen makes of this crate
//! now. `MESOS_UPDATE_HEADER=1 cargo test -p mesos-c --test header` rewrites it.

use std::path::{Path, PathBuf};

/// The header as cbindgen generates it from the crate's sources and `cbindgen.toml`.
fn generate(crate_dir: &Path) -> String {
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("bindings/c/cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen cannot generate the header: {e}"));
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn header_is_current() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/mesos/mesos.h");
    let fresh = generate(&crate_dir);
    if std::env::var("MESOS_UPDATE_HEADER").as_deref() == Ok("1") {
        std::fs::write(&header, &fresh)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", header.display()));
        println!("wrote {}", header.display());
        return;
    }
    let current = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        current == fresh,
        "include/mesos/mesos.h is not what cbindgen generates from bindings/c (the C API \
         changed, or the header was edited by hand). Regenerate it with\n\n    \
         MESOS_UPDATE_HEADER=1 cargo test -p mesos-c --test header\n\nand commit it."
    );
}
