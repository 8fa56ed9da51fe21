//! Inventory as the server keeps it (pure logic, no I/O): what an agent
//! reported, cleaned of anything hostile or absurd, and the difference
//! between two inventories, which is what "what changed on this machine"
//! shows.
//!
//! Cleaning caps every string and list, drops control characters, clamps
//! numbers to what a page and JavaScript can show exactly, and sorts lists,
//! so two reports of an unchanged machine are byte-for-byte equal (the
//! server stores a new version only when the hash changes).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use steward_protocol::report::{Disk, Interface, Inventory, Service, Software};

/// Largest integer JavaScript holds exactly (2^53 − 1).
const JS_SAFE: u64 = (1 << 53) - 1;

fn text(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_string()
}

fn capped<T>(mut v: Vec<T>, max: usize) -> Vec<T> {
    v.truncate(max);
    v
}

/// Cleans a reported inventory. `now` (Unix seconds) bounds the boot time.
pub fn clean(inv: Inventory, now: i64) -> Inventory {
    let mut software: Vec<Software> = capped(inv.software, 20_000)
        .into_iter()
        .map(|s| Software { name: text(&s.name, 256), version: text(&s.version, 128), publisher: text(&s.publisher, 256) })
        .filter(|s| !s.name.is_empty())
        .collect();
    software.sort_by(|a, b| (&a.name, &a.version, &a.publisher).cmp(&(&b.name, &b.version, &b.publisher)));
    software.dedup();
    let mut services: Vec<Service> = capped(inv.services, 5_000)
        .into_iter()
        .map(|s| Service { name: text(&s.name, 256), state: text(&s.state, 32) })
        .filter(|s| !s.name.is_empty())
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    services.dedup_by(|a, b| a.name == b.name);
    let mut disks: Vec<Disk> = capped(inv.disks, 128)
        .into_iter()
        .map(|d| Disk { mount: text(&d.mount, 256), fs: text(&d.fs, 32), total_bytes: d.total_bytes.min(JS_SAFE) })
        .filter(|d| !d.mount.is_empty())
        .collect();
    disks.sort_by(|a, b| a.mount.cmp(&b.mount));
    disks.dedup_by(|a, b| a.mount == b.mount);
    let mut interfaces: Vec<Interface> = capped(inv.interfaces, 256)
        .into_iter()
        .map(|i| {
            let mut addresses: Vec<String> = capped(i.addresses, 64).iter().map(|a| text(a, 64)).filter(|a| !a.is_empty()).collect();
            addresses.sort();
            addresses.dedup();
            Interface { name: text(&i.name, 64), mac: text(&i.mac, 64).to_lowercase(), addresses }
        })
        .filter(|i| !i.name.is_empty())
        .collect();
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    interfaces.dedup_by(|a, b| a.name == b.name);
    let mut users: Vec<String> = capped(inv.users, 256).iter().map(|u| text(u, 128)).filter(|u| !u.is_empty()).collect();
    users.sort();
    users.dedup();
    let (os, hw) = (inv.os, inv.hardware);
    Inventory {
        hostname: text(&inv.hostname, 253),
        os: steward_protocol::report::OsInfo {
            family: text(&os.family, 32),
            name: text(&os.name, 200),
            version: text(&os.version, 100),
            kernel: text(&os.kernel, 200),
            arch: text(&os.arch, 32),
        },
        hardware: steward_protocol::report::Hardware {
            vendor: text(&hw.vendor, 128),
            model: text(&hw.model, 128),
            serial: text(&hw.serial, 128),
            cpu_model: text(&hw.cpu_model, 200),
            cpu_cores: hw.cpu_cores.min(65_536),
            memory_bytes: hw.memory_bytes.min(JS_SAFE),
        },
        disks,
        interfaces,
        users,
        software,
        services,
        boot_time: if (0..=now + 86_400).contains(&inv.boot_time) { inv.boot_time } else { 0 },
    }
}

/// One difference between two inventories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// `os`, `hardware`, `disks`, `interfaces`, `users`, `software`, `services`, `boot`.
    pub section: String,
    /// `added`, `removed` or `changed`.
    pub kind: String,
    /// What changed: a package, a service, a mount, a field.
    pub item: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Two steps of history as one: each item's first `before` and last
/// `after`; an item that came back to where it was drops out. So several
/// reports in quick succession (an agent flapping, or a hostile one) leave
/// one history entry, and `merge(diff(a, b), diff(b, c)) == diff(a, c)`.
pub fn merge(earlier: Vec<Change>, later: Vec<Change>) -> Vec<Change> {
    let mut by_item: BTreeMap<(String, String), (Option<String>, Option<String>)> = BTreeMap::new();
    for c in earlier.into_iter().chain(later) {
        by_item.entry((c.section, c.item)).and_modify(|(_, after)| *after = c.after.clone()).or_insert((c.before, c.after));
    }
    by_item
        .into_iter()
        .filter_map(|((section, item), (before, after))| {
            let kind = match (&before, &after) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                (Some(b), Some(a)) if b != a => "changed",
                _ => return None,
            };
            Some(Change { section, kind: kind.into(), item, before, after })
        })
        .collect()
}

/// Compares keyed values of one section.
fn keyed(section: &str, old: BTreeMap<String, String>, new: BTreeMap<String, String>, out: &mut Vec<Change>) {
    for (k, v) in &old {
        match new.get(k) {
            None => {
                out.push(Change { section: section.into(), kind: "removed".into(), item: k.clone(), before: Some(v.clone()), after: None })
            }
            Some(n) if n != v => out.push(Change {
                section: section.into(),
                kind: "changed".into(),
                item: k.clone(),
                before: Some(v.clone()),
                after: Some(n.clone()),
            }),
            Some(_) => {}
        }
    }
    for (k, v) in new {
        if !old.contains_key(&k) {
            out.push(Change { section: section.into(), kind: "added".into(), item: k, before: None, after: Some(v) });
        }
    }
}

fn os_fields(i: &Inventory) -> BTreeMap<String, String> {
    let o = &i.os;
    [("hostname", &i.hostname), ("family", &o.family), ("name", &o.name), ("version", &o.version), ("kernel", &o.kernel), ("arch", &o.arch)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn hardware_fields(i: &Inventory) -> BTreeMap<String, String> {
    let h = &i.hardware;
    let mut m: BTreeMap<String, String> = [("vendor", &h.vendor), ("model", &h.model), ("serial", &h.serial), ("cpu", &h.cpu_model)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    if h.cpu_cores > 0 {
        m.insert("cpu cores".into(), h.cpu_cores.to_string());
    }
    if h.memory_bytes > 0 {
        m.insert("memory".into(), human_bytes(h.memory_bytes));
    }
    m
}

/// Several installed versions of one name (kernels, runtimes) read as one item.
fn software_versions(i: &Inventory) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for s in &i.software {
        m.entry(s.name.clone()).or_default().push(&s.version);
    }
    m.into_iter().map(|(k, v)| (k, v.join(", "))).collect()
}

/// The differences from `old` to `new` (both cleaned). `old` = `None` is the
/// first inventory: no changes, the history starts there.
pub fn diff(old: &Inventory, new: &Inventory) -> Vec<Change> {
    let mut out = vec![];
    keyed("os", os_fields(old), os_fields(new), &mut out);
    keyed("hardware", hardware_fields(old), hardware_fields(new), &mut out);
    let disks = |i: &Inventory| i.disks.iter().map(|d| (d.mount.clone(), format!("{} {}", human_bytes(d.total_bytes), d.fs))).collect();
    keyed("disks", disks(old), disks(new), &mut out);
    let ifs = |i: &Inventory| {
        i.interfaces.iter().map(|n| (n.name.clone(), format!("{} {}", n.mac, n.addresses.join(" ")).trim().to_string())).collect()
    };
    keyed("interfaces", ifs(old), ifs(new), &mut out);
    let users = |i: &Inventory| i.users.iter().map(|u| (u.clone(), "signed in".to_string())).collect();
    keyed("users", users(old), users(new), &mut out);
    keyed("software", software_versions(old), software_versions(new), &mut out);
    let svcs = |i: &Inventory| i.services.iter().map(|s| (s.name.clone(), s.state.clone())).collect();
    keyed("services", svcs(old), svcs(new), &mut out);
    if old.boot_time != new.boot_time && new.boot_time != 0 {
        let when = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string());
        out.push(Change {
            section: "boot".into(),
            kind: "changed".into(),
            item: "last boot".into(),
            before: if old.boot_time == 0 { None } else { when(old.boot_time) },
            after: when(new.boot_time),
        });
    }
    out
}

/// 1536 → "1.5 KiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// What the device list and search show of an inventory without reading
/// it whole: its addresses, who is signed in, its serial and last boot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Addresses without their prefix length, IPv4 first, loopback and
    /// link-local left out (no technician looks a machine up by them),
    /// space-separated; the first is the one the list shows.
    pub addresses: String,
    /// Signed-in users, comma-separated.
    pub users: String,
    pub serial: String,
    /// Unix seconds; 0 when unknown.
    pub boot_time: i64,
}

/// The [`Facts`] of an inventory (already cleaned).
pub fn facts(inv: &Inventory) -> Facts {
    let mut v4 = vec![];
    let mut v6 = vec![];
    for a in inv.interfaces.iter().flat_map(|i| i.addresses.iter()) {
        let bare = a.split('/').next().unwrap_or_default().trim();
        match bare.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) if !ip.is_loopback() && !ip.is_link_local() && !ip.is_unspecified() => v4.push(ip.to_string()),
            Ok(std::net::IpAddr::V6(ip)) if !ip.is_loopback() && !ip.is_unspecified() && (ip.segments()[0] & 0xffc0) != 0xfe80 => {
                v6.push(ip.to_string())
            }
            _ => {}
        }
    }
    let mut addresses: Vec<String> = v4.into_iter().chain(v6).collect();
    // Two interfaces can carry one address (a bridge and its port).
    let mut seen = std::collections::HashSet::new();
    addresses.retain(|a| seen.insert(a.clone()));
    Facts {
        addresses: addresses.join(" "),
        users: inv.users.join(", "),
        serial: inv.hardware.serial.clone(),
        boot_time: inv.boot_time.max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use steward_protocol::report::{Hardware, OsInfo};

    fn arb_inventory() -> impl Strategy<Value = Inventory> {
        let name = "[a-z]{1,6}";
        (
            prop::collection::vec((name, "[0-9]\\.[0-9]"), 0..8),
            prop::collection::vec((name, prop::sample::select(vec!["running", "stopped"])), 0..5),
            prop::collection::vec(name, 0..3),
            // Whole GiB, as a person reads sizes (the diff shows sizes rounded).
            prop::collection::vec(("/[a-z]{0,4}", (1u64..1000).prop_map(|g| g << 30)), 0..3),
            0u32..64,
            0i64..2_000_000_000,
        )
            .prop_map(|(sw, svc, users, disks, cores, boot)| Inventory {
                hostname: "pc".into(),
                os: OsInfo { name: "Linux".into(), ..Default::default() },
                hardware: Hardware { cpu_cores: cores, ..Default::default() },
                disks: disks.into_iter().map(|(m, t)| Disk { mount: m, fs: "ext4".into(), total_bytes: t }).collect(),
                interfaces: vec![],
                users,
                software: sw.into_iter().map(|(n, v)| Software { name: n, version: v, publisher: String::new() }).collect(),
                services: svc.into_iter().map(|(n, s)| Service { name: n, state: s.into() }).collect(),
                boot_time: boot,
            })
    }

    const NOW: i64 = 2_000_000_000;

    fn maps() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map("[a-e]", "[xyz]", 0..5)
    }

    fn diff_maps(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<Change> {
        let mut out = vec![];
        keyed("software", a.clone(), b.clone(), &mut out);
        out
    }

    fn sorted(mut v: Vec<Change>) -> Vec<(String, String, Option<String>, Option<String>)> {
        v.sort_by(|x, y| (&x.section, &x.item).cmp(&(&y.section, &y.item)));
        v.into_iter().map(|c| (c.kind, c.item, c.before, c.after)).collect()
    }

    #[test]
    fn facts_keep_the_addresses_a_technician_looks_for() {
        let inv = Inventory {
            interfaces: vec![
                Interface { name: "lo".into(), mac: String::new(), addresses: vec!["127.0.0.1/8".into(), "::1/128".into()] },
                Interface {
                    name: "eth0".into(),
                    mac: String::new(),
                    addresses: vec!["fe80::1/64".into(), "2001:db8::5/64".into(), "10.0.0.5/24".into(), "not an address".into()],
                },
                Interface { name: "br0".into(), mac: String::new(), addresses: vec!["10.0.0.5".into(), "169.254.3.3/16".into()] },
            ],
            users: vec!["anna".into(), "ben".into()],
            hardware: Hardware { serial: "SN-1".into(), ..Default::default() },
            boot_time: 1_700_000_000,
            ..Default::default()
        };
        let f = facts(&inv);
        assert_eq!(f.addresses, "10.0.0.5 2001:db8::5");
        assert_eq!(f.users, "anna, ben");
        assert_eq!((f.serial.as_str(), f.boot_time), ("SN-1", 1_700_000_000));
    }

    proptest! {
        #[test]
        fn facts_list_each_address_once_and_only_addresses(addrs in prop::collection::vec("(10|192)\\.[0-9]{1,2}\\.[0-9]\\.[0-9](/[0-9]{1,2})?|[a-z:0-9]{1,8}", 0..12)) {
            let inv = Inventory { interfaces: vec![Interface { name: "e".into(), mac: String::new(), addresses: addrs }], ..Default::default() };
            let f = facts(&inv);
            let listed: Vec<&str> = f.addresses.split_whitespace().collect();
            let unique: std::collections::HashSet<&&str> = listed.iter().collect();
            prop_assert_eq!(unique.len(), listed.len());
            for a in listed {
                prop_assert!(a.parse::<std::net::IpAddr>().is_ok());
            }
        }

        #[test]
        fn merging_two_steps_is_the_step_from_first_to_last(a in maps(), b in maps(), c in maps()) {
            prop_assert_eq!(sorted(merge(diff_maps(&a, &b), diff_maps(&b, &c))), sorted(diff_maps(&a, &c)));
        }

        #[test]
        fn cleaning_is_idempotent(a in arb_inventory()) {
            let once = clean(a, NOW);
            prop_assert_eq!(clean(once.clone(), NOW), once);
        }

        #[test]
        fn no_changes_exactly_when_the_cleaned_inventories_are_equal(a in arb_inventory(), b in arb_inventory()) {
            let (a, b) = (clean(a, NOW), clean(b, NOW));
            prop_assert!(diff(&a, &a).is_empty());
            // Equal hashes and an empty diff agree, except for a boot time reset to unknown (0), which is not news.
            if b.boot_time != 0 || a.boot_time == 0 {
                prop_assert_eq!(diff(&a, &b).is_empty(), a.sent_hash() == b.sent_hash(), "{:?}", diff(&a, &b));
            }
        }

        #[test]
        fn what_one_direction_adds_the_other_removes(a in arb_inventory(), b in arb_inventory()) {
            let (a, b) = (clean(a, NOW), clean(b, NOW));
            let items = |d: Vec<Change>, kind: &str| {
                let mut v: Vec<(String, String)> = d.into_iter().filter(|c| c.kind == kind).map(|c| (c.section, c.item)).collect();
                v.sort();
                v
            };
            prop_assert_eq!(items(diff(&a, &b), "added"), items(diff(&b, &a), "removed"));
        }

        #[test]
        fn hostile_strings_come_out_bounded_and_free_of_control_characters(s in ".{0,600}", n in any::<u64>(), boot in any::<i64>()) {
            let inv = Inventory {
                hostname: s.repeat(3),
                software: vec![Software { name: s.clone(), version: s.clone(), publisher: s.clone() }],
                hardware: Hardware { memory_bytes: n, ..Default::default() },
                boot_time: boot,
                ..Default::default()
            };
            let c = clean(inv, NOW);
            prop_assert!(c.hostname.chars().count() <= 253 && !c.hostname.chars().any(char::is_control));
            prop_assert!(c.software.iter().all(|s| s.name.chars().count() <= 256 && !s.name.chars().any(char::is_control)));
            prop_assert!(c.hardware.memory_bytes <= JS_SAFE);
            prop_assert!(c.boot_time >= 0 && c.boot_time <= NOW + 86_400);
        }
    }

    #[test]
    fn an_upgrade_a_new_package_and_a_stopped_service_read_as_people_expect() {
        let base = Inventory {
            software: vec![
                Software { name: "openssl".into(), version: "3.0.1".into(), ..Default::default() },
                Software { name: "vim".into(), version: "9.0".into(), ..Default::default() },
            ],
            services: vec![Service { name: "ssh".into(), state: "running".into() }],
            ..Default::default()
        };
        let mut next = base.clone();
        next.software[0].version = "3.0.2".into();
        next.software.push(Software { name: "curl".into(), version: "8.1".into(), ..Default::default() });
        next.services[0].state = "stopped".into();
        let d = diff(&clean(base, NOW), &clean(next, NOW));
        let show: Vec<String> = d.iter().map(|c| format!("{} {} {} {:?}→{:?}", c.section, c.kind, c.item, c.before, c.after)).collect();
        assert_eq!(
            show,
            [
                "software changed openssl Some(\"3.0.1\")→Some(\"3.0.2\")",
                "software added curl None→Some(\"8.1\")",
                "services changed ssh Some(\"running\")→Some(\"stopped\")",
            ]
        );
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(17_179_869_184), "16.0 GiB");
    }
}
