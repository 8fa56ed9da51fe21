//! Dependencies run one way. Reads every file under `src/`, finds what it
//! imports (`use crate::…`, `use super::…` and inline `crate::…` paths),
//! and fails on:
//! - an import from a lower layer into a higher one (the layers, bottom to
//!   top, are in [`LAYERS`] and `ARCHITECTURE.md`);
//! - any circle among files;
//! - a domain importing another domain's `pages` (pages compose through
//!   panels, `app::panels`).
//!
//! It reads imports as text: a path it cannot place (an item of the crate
//! root, a macro) is skipped, never guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A layer, bottom first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// The store, crypto, configuration, the error type, validation, time.
    Foundation,
    /// Each domain's storage and pure logic.
    Data,
    /// The running services and the HTTP building blocks.
    Services,
    /// The application state.
    App,
    /// The domains' operations and edges (API, pages, gateway).
    Domain,
    /// The composition root.
    Top,
}

/// Where each file sits: the first pattern that matches wins. A pattern
/// ending in `/` is a folder (anywhere below it); `*/` matches any one
/// domain folder. What matches nothing is a domain's own file.
const LAYERS: &[(&str, Layer)] = &[
    ("store/", Layer::Foundation),
    ("crypto/", Layer::Foundation),
    ("config.rs", Layer::Foundation),
    ("error.rs", Layer::Foundation),
    ("validate/", Layer::Foundation),
    ("time.rs", Layer::Foundation),
    ("*/store.rs", Layer::Data),
    ("*/store/", Layer::Data),
    ("*/model.rs", Layer::Data),
    ("*/model/", Layer::Data),
    ("auth/roles.rs", Layer::Data),
    ("auth/password.rs", Layer::Data),
    ("auth/totp.rs", Layer::Data),
    ("auth/principal.rs", Layer::Data),
    ("audit/chain.rs", Layer::Data),
    ("http/", Layer::Services),
    ("events.rs", Layer::Services),
    ("web/error.rs", Layer::Services),
    ("*/runtime.rs", Layer::Services),
    ("*/runtime/", Layer::Services),
    ("app/", Layer::App),
    ("routes.rs", Layer::Top),
    ("server.rs", Layer::Top),
    ("jobs.rs", Layer::Top),
    ("cli.rs", Layer::Top),
    ("demo/", Layer::Top),
    ("main.rs", Layer::Top),
    ("lib.rs", Layer::Top),
];

fn matches(pattern: &str, rel: &str) -> bool {
    // `*/x` matches `x` below any one top-level folder, at any depth below it.
    if let Some(rest) = pattern.strip_prefix("*/") {
        let Some((_, below)) = rel.split_once('/') else { return false };
        return if rest.ends_with('/') {
            below.starts_with(rest) || below.contains(&format!("/{rest}"))
        } else {
            below == rest || below.ends_with(&format!("/{rest}"))
        };
    }
    if pattern.ends_with('/') {
        rel.starts_with(pattern)
    } else {
        rel == pattern
    }
}

fn layer_of(rel: &str) -> Layer {
    LAYERS.iter().find(|(p, _)| matches(p, rel)).map(|(_, l)| *l).unwrap_or(Layer::Domain)
}

/// The domain folder a file is in (`devices` for `devices/store/query.rs`).
fn domain_of(rel: &str) -> Option<&str> {
    rel.split_once('/').map(|(d, _)| d)
}

/// `devices/store/query.rs` → `["devices", "store", "query"]`; `mod.rs` is its folder.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
        parts.pop();
    }
    parts
}

fn files(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), p));
        }
    }
}

/// The code of a file without comments and without its test module.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line.split(" // ").next().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.trim_end_matches("::self").to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p).into_iter().map(|x| if x == "self" { prefix.to_string() } else { format!("{prefix}::{x}") }))
        .collect()
}

/// The `crate::` and `super::` paths a file's code refers to.
fn referenced(code: &str) -> Vec<String> {
    let mut paths = vec![];
    // `use` statements, possibly over several lines.
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let stmt_start = before.is_none_or(|c| c.is_whitespace() || c == ';' || c == '}' || c == '{');
        rest = &rest[i + 4..];
        if !stmt_start {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let tree: String = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        if tree.starts_with("crate::") || tree.starts_with("super::") {
            paths.extend(expand(&tree));
        }
    }
    // Inline paths.
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_' || bytes[at - 1] == b':') {
                continue;
            }
            let end = code[at..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).map(|e| at + e).unwrap_or(code.len());
            // `crate::a::{b, c}` is a use tree: read above, item by item.
            if code[end..].starts_with('{') {
                continue;
            }
            paths.push(code[at..end].trim_end_matches(':').to_string());
        }
    }
    paths
}

/// The file a path refers to: the longest module prefix that is a file.
fn resolve(path: &str, from: &[String], modules: &BTreeMap<Vec<String>, String>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => {
            segs.remove(0);
            vec![]
        }
        Some(&"super") => {
            let mut b = from.to_vec();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                b.pop();
            }
            b
        }
        _ => return None,
    };
    let mut best = None;
    for s in segs {
        base.push(s.to_string());
        match modules.get(&base) {
            Some(f) => best = Some(f.clone()),
            None => break,
        }
    }
    best
}

#[test]
fn dependencies_run_one_way_with_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = vec![];
    files(&root, &root, &mut all);
    assert!(all.len() > 50, "read the sources ({} files)", all.len());
    let modules: BTreeMap<Vec<String>, String> = all.iter().map(|(rel, _)| (module_path(rel), rel.clone())).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, path) in &all {
        let text = std::fs::read_to_string(path).unwrap();
        let from = module_path(rel);
        // `super` in `a/b.rs` is `a`; in `a/mod.rs` it is the crate.
        for p in referenced(&code(&text)) {
            if let Some(target) = resolve(&p, &from, &modules) {
                if &target != rel && target != "lib.rs" {
                    edges.entry(rel.clone()).or_default().insert(target);
                }
            }
        }
    }
    let edge_count: usize = edges.values().map(BTreeSet::len).sum();
    assert!(edge_count > 200, "found the imports ({edge_count})");

    let mut wrong = vec![];
    for (from, tos) in &edges {
        for to in tos {
            if layer_of(to) > layer_of(from) {
                wrong.push(format!("{from} ({:?}) imports {to} ({:?})", layer_of(from), layer_of(to)));
            }
            let is_pages = to.ends_with("/pages.rs") || to.contains("/pages/");
            if is_pages && domain_of(to) != domain_of(from) {
                wrong.push(format!("{from} imports another domain's pages: {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that go the wrong way:\n  {}", wrong.join("\n  "));

    let circles = strongly_connected(&edges).into_iter().filter(|c| c.len() > 1).collect::<Vec<_>>();
    assert!(
        circles.is_empty(),
        "import circles among files:\n  {}",
        circles.iter().map(|c| c.join(" → ")).collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_reader_finds_what_a_file_imports() {
    let paths = expand("crate::a::{b, c::{d as e, self}, f::*}");
    assert_eq!(paths, ["crate::a::b", "crate::a::c::d", "crate::a::c", "crate::a::f::*"]);
    let src = "use super::store::{self as runs, Run};\nfn f() { crate::time::now_us(); x.crate_thing(); }\n// crate::not::this\n";
    let r = referenced(&code(src));
    assert!(r.contains(&"super::store".to_string()) && r.contains(&"crate::time::now_us".to_string()), "{r:?}");
    assert!(!r.iter().any(|p| p.contains("not::this")));
    assert!(matches("*/store.rs", "devices/inventory/store.rs") && matches("*/store/", "devices/store/query.rs"));
    assert!(!matches("*/store.rs", "store.rs") && matches("store/", "store/lease.rs"));
    assert_eq!(layer_of("devices/runtime/registry.rs"), Layer::Services);
    assert_eq!(layer_of("devices/gateway.rs"), Layer::Domain);
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.edges.get(v) {
            for w in ws {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = vec![];
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.push(w.to_string());
                if w == v {
                    break;
                }
            }
            t.out.push(c);
        }
    }
    let mut t = T { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), out: vec![] };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}
