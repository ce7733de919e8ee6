//! Golden files: output compared with a file under the repository, rewritten instead when
//! `DPUCTL_BLESS` is set (after an intended change; review the diff).

use std::path::PathBuf;

/// Compares `actual` with the file `rel` (relative to the repository root), or writes it
/// (and its folder) when `DPUCTL_BLESS` is set.
pub fn golden(rel: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var_os("DPUCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DPUCTL_BLESS=1 creates it)", path.display()));
    assert!(
        want == actual,
        "{} differs from the output (DPUCTL_BLESS=1 to accept):\n--- want\n{want}\n--- got\n{actual}",
        path.display()
    );
}
