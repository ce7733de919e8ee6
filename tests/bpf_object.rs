//! The committed eBPF object (`src/sys/bpf/bins.bpf.o`) is what its source builds to: the
//! test rebuilds it with Debian's clang by the command dpuctl documents
//! (`dpuctl::sys::bpf::BUILD_COMMAND`) and compares the bytes. After a change to the C
//! source, rebuild with the same command (`DPUCTL_BLESS=1` here writes the new object).

use std::process::Command;

#[test]
fn the_committed_object_is_what_the_source_builds_to() {
    let src_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys/bpf");
    let committed = std::fs::read(src_dir.join("bins.bpf.o")).expect("committed object");
    assert_eq!(committed.as_slice(), dpuctl::sys::bpf::OBJECT);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(src_dir.join("bins.bpf.c"), dir.path().join("bins.bpf.c")).expect("copy");
    let cmd = dpuctl::sys::bpf::BUILD_COMMAND;
    let multiarch = format!("-I/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let o = Command::new(cmd[0])
        .args(&cmd[1..])
        .arg("bins.bpf.o")
        .arg(&multiarch)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (install clang and libbpf-dev: tests/run-all.sh)",
                cmd[0]
            )
        });
    assert!(
        o.status.success(),
        "clang failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let built = std::fs::read(dir.path().join("bins.bpf.o")).expect("built object");
    if std::env::var_os("DPUCTL_BLESS").is_some() {
        std::fs::write(src_dir.join("bins.bpf.o"), &built).expect("bless");
        return;
    }
    let version = Command::new(cmd[0])
        .arg("--version")
        .output()
        .expect("clang");
    assert!(
        built == committed,
        "src/sys/bpf/bins.bpf.o is not what bins.bpf.c builds to with {}; rebuild it \
         (DPUCTL_BLESS=1 cargo nextest run --test bpf_object)",
        String::from_utf8_lossy(&version.stdout)
            .lines()
            .next()
            .unwrap_or("clang")
    );
}
