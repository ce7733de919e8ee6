//! How `dpuctl show` reads many interfaces at once: one ethtool dump per message type for the
//! whole namespace instead of requests per interface. Both ways must give the same node state,
//! including the n/a reasons of what a driver does not support, which a dump only shows by
//! leaving the device out. Real kernel, in a namespace the test creates; needs root.

mod common;

use common::Netns;
use serde_json::Value;

/// The interfaces of a `show --format json`, by name.
fn interfaces(ns: &Netns, args: &[&str]) -> Vec<(String, Value)> {
    let mut a = vec!["show", "--format", "json"];
    a.extend_from_slice(args);
    let o = ns.dpuctl(&a);
    assert!(
        o.status.success(),
        "show {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    v["interfaces"]
        .as_array()
        .expect("interfaces")
        .iter()
        .map(|i| (i["name"].as_str().expect("name").to_string(), i.clone()))
        .collect()
}

/// An interface without what moves on its own between two reads: counters, driver counter
/// values and IRQ counts.
fn settled(mut i: Value) -> Value {
    let o = i.as_object_mut().expect("interface object");
    o.remove("counters");
    if let Some(stats) = o.get_mut("driver_stats").and_then(Value::as_array_mut) {
        for c in stats {
            c["value"] = Value::Null;
        }
    }
    if let Some(irqs) = o.get_mut("irqs").and_then(Value::as_array_mut) {
        for q in irqs {
            q["count"] = Value::Null;
        }
    }
    i
}

#[test]
fn whole_namespace_read_agrees_with_reads_of_each_interface() {
    let ns = Netns::new("bulk");
    // Drivers that support different parts of ethtool: veth (channels, no rings), bridge
    // (no channels, no driver counters), ifb and macvlan.
    ns.veth("a", "b", 4);
    ns.ip(&["link", "add", "name", "br0", "type", "bridge"]);
    ns.ip(&["link", "add", "name", "ifb9", "type", "ifb"]);
    ns.ip(&["link", "add", "name", "mv0", "link", "a", "type", "macvlan"]);
    // Settings that differ between the two veth ends, so that answers cannot be swapped.
    ns.exec_ok("ethtool", &["-L", "a", "rx", "2", "tx", "3"]);
    ns.exec_ok("ethtool", &["-K", "b", "gro", "on"]);

    let all = interfaces(&ns, &[]);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["a", "b", "br0", "ifb9", "mv0"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for (name, whole) in &all {
        let one = interfaces(&ns, &[name]);
        assert_eq!(one.len(), 1, "show {name}");
        assert_eq!(
            settled(whole.clone()),
            settled(one[0].1.clone()),
            "{name}: the whole-namespace read and the read of {name} alone differ"
        );
    }

    // The witnesses: ethtool on the same interfaces.
    let get = |n: &str| &all.iter().find(|(x, _)| x == n).expect(n).1;
    let l = ns.exec_ok("ethtool", &["-l", "a"]);
    let current = l
        .split("Current hardware settings:")
        .nth(1)
        .expect("ethtool -l");
    assert!(current.contains("RX:\t\t2"), "{current}");
    assert_eq!(get("a")["channels"]["rx"], 2);
    assert_eq!(get("a")["channels"]["tx"], 3);
    let k = ns.exec_ok("ethtool", &["-k", "b"]);
    assert!(k.contains("generic-receive-offload: on"), "{k}");
    let gro = |n: &str| {
        get(n)["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["name"] == "rx-gro")
            .map(|f| f["active"].clone())
    };
    assert_eq!(gro("b"), Some(Value::Bool(true)));
    // Unsupported shows as n/a with the reason, as ethtool's refusal says.
    let g = ns.exec("ethtool", &["-g", "br0"]);
    assert!(!g.status.success(), "ethtool -g br0 succeeded");
    assert!(
        String::from_utf8_lossy(&g.stderr).contains("Operation not supported"),
        "{}",
        String::from_utf8_lossy(&g.stderr)
    );
    assert_eq!(
        get("br0")["rings"]["n/a"],
        "not supported by the driver",
        "{}",
        get("br0")["rings"]
    );
    assert_eq!(get("br0")["channels"]["n/a"], "not supported by the driver");
    assert!(get("a")["channels"].get("n/a").is_none());
}
