//! The deployment files in `dist/`: the systemd units pass `systemd-analyze verify`, and the
//! Kubernetes manifests parse and carry what the README promises (exporter: hostNetwork,
//! read-only /sys, `CAP_NET_ADMIN`, not privileged; tune: privileged, the journal on a
//! hostPath, no rollback when the pod goes away).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use yaml_serde::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read manifest");
    yaml_serde::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The volume named `name` of a pod spec.
fn volume<'a>(spec: &'a Value, name: &str) -> &'a Value {
    spec["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no volume {name}"))
}

#[test]
fn the_exporter_daemonset_reads_the_host_without_privilege() {
    let d = docs(&repo().join("dist/kubernetes/dpuctl-exporter.yaml"));
    let ds = of_kind(&d, "DaemonSet");
    let spec = &ds["spec"]["template"]["spec"];
    assert_eq!(spec["hostNetwork"].as_bool(), Some(true));
    let c = &spec["containers"][0];
    let args = strs(&c["args"]);
    assert_eq!(args.first(), Some(&"exporter"));
    assert!(args.contains(&"0.0.0.0:9059"), "{args:?}");
    assert_eq!(c["ports"][0]["containerPort"].as_u64(), Some(9059));
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"].as_bool(), Some(false));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(strs(&sc["capabilities"]["add"]), ["NET_ADMIN"]);
    assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"]);
    let m = c["volumeMounts"]
        .as_sequence()
        .expect("mounts")
        .iter()
        .find(|m| m["mountPath"].as_str() == Some("/sys"))
        .expect("/sys mounted");
    assert_eq!(m["readOnly"].as_bool(), Some(true));
    let name = m["name"].as_str().expect("name");
    assert_eq!(
        volume(spec, name)["hostPath"]["path"].as_str(),
        Some("/sys")
    );
}

#[test]
fn the_tune_daemonset_keeps_its_journal_and_never_rolls_back() {
    let d = docs(&repo().join("dist/kubernetes/dpuctl-tune.yaml"));
    let ds = of_kind(&d, "DaemonSet");
    let spec = &ds["spec"]["template"]["spec"];
    assert_eq!(spec["hostNetwork"].as_bool(), Some(true));
    let init = &spec["initContainers"][0];
    let args = strs(&init["args"]);
    assert_eq!(args.first(), Some(&"tune"));
    assert!(args.contains(&"--yes"), "{args:?}");
    assert!(
        !args.iter().any(|a| a.starts_with("--confirm-timeout")),
        "a confirm timeout would roll back: {args:?}"
    );
    assert_eq!(init["securityContext"]["privileged"].as_bool(), Some(true));
    // The state directory dpuctl uses is the hostPath mount.
    let env = init["env"].as_sequence().expect("env");
    let state = env
        .iter()
        .find(|e| e["name"].as_str() == Some("DPUCTL_STATE_DIR"))
        .and_then(|e| e["value"].as_str())
        .expect("DPUCTL_STATE_DIR");
    let m = init["volumeMounts"]
        .as_sequence()
        .expect("mounts")
        .iter()
        .find(|m| m["mountPath"].as_str() == Some(state))
        .expect("state dir mounted");
    let v = volume(spec, m["name"].as_str().expect("name"));
    assert_eq!(v["hostPath"]["path"].as_str(), Some("/var/lib/dpuctl"));
    // Nothing runs when the pod stops: no lifecycle hooks, no rollback anywhere.
    let text =
        std::fs::read_to_string(repo().join("dist/kubernetes/dpuctl-tune.yaml")).expect("read");
    let live: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!live.contains("lifecycle") && !live.contains("preStop"));
    assert!(!live.contains("rollback"));
    // The ConfigMap's profile is one dpuctl accepts.
    let cm = of_kind(&d, "ConfigMap");
    let tmp = tempfile::tempdir().expect("tempdir");
    let profile = tmp.path().join("site.yaml");
    std::fs::write(
        &profile,
        cm["data"]["site.yaml"].as_str().expect("site.yaml"),
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(["profile", "validate"])
        .arg(&profile)
        .output()
        .expect("dpuctl profile validate");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `systemd-analyze verify` of each unit, with `ExecStart` pointed at the built binary (it
/// checks that the program exists) and without the man page lookup (not installed here).
#[test]
fn the_systemd_units_verify() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(
        analyze.exists(),
        "systemd-analyze is missing (Debian package systemd; tests/run-all.sh installs it)"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    for (file, instance) in [
        ("dpuctl-exporter.service", "dpuctl-exporter.service"),
        ("dpuctl-tune@.service", "dpuctl-tune@throughput.service"),
    ] {
        let text = std::fs::read_to_string(repo().join("dist").join(file)).expect("read unit");
        let text = text.replace("/usr/local/bin/dpuctl", env!("CARGO_BIN_EXE_dpuctl"));
        std::fs::write(tmp.path().join(file), text).expect("write unit");
        let o = Command::new(analyze)
            .args(["verify", "--man=no"])
            .arg(tmp.path().join(instance))
            .current_dir(tmp.path())
            .output()
            .expect("systemd-analyze");
        let err = String::from_utf8_lossy(&o.stderr);
        // Unknown keys and bad values are warnings with exit 0: any output fails too.
        assert!(o.status.success() && err.trim().is_empty(), "{file}: {err}");
    }
}
