//! A test that every dependency between the modules of `host/src` goes one way: no module
//! reaches, directly or through others, back to itself.
//!
//! It reads the sources and follows every path that names a module of this crate — `use`
//! trees, `crate::`, `super::` and `self::` paths, and paths through a child module or a
//! module imported by name — to the module that defines the item, following `pub use`
//! re-exports to their source. Comments, strings and `#[cfg(test)]` items are skipped: tests
//! may look anywhere. It reads files only; it never compiles or runs anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path below the crate root (`["component", "proxy"]`); the root is empty.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
}

/// Rust source as tokens with their line numbers, without comments, strings, char literals,
/// lifetimes and numbers: none of them can name a module.
fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
        }
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1, false, 0, &mut line);
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{..}') or a lifetime ('a): only the former closes.
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // Raw and byte strings: r"..", r#".."#, b"..", br"..", and byte chars b'x'.
            let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                i = skip_string(&chars, i + hashes + 1, true, hashes, &mut line);
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                i = skip_string(&chars, i + 1, false, 0, &mut line);
            } else if word == "b" && at(i) == '\'' {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            } else {
                out.push((Tok::Ident(word), line));
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Tok::Sep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// Skips a string body starting at `i` (after the opening quote) and returns the index after
/// its closing quote. Raw strings (`raw`) have no escapes and end with a quote and `hashes` `#`s.
fn skip_string(chars: &[char], mut i: usize, raw: bool, hashes: usize, line: &mut usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\n' => *line += 1,
            '\\' if !raw => {
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
                continue;
            }
            '"' if chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes =>
            {
                return i + 1 + hashes;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// One `use` leaf: the full path as written, and the name it binds (`None` for a glob).
#[derive(Debug)]
struct UseLeaf {
    path: Vec<String>,
    name: Option<String>,
    line: usize,
}

/// What one file says about modules.
#[derive(Debug, Default)]
struct Parsed {
    /// `mod name;` (not under `#[cfg(test)]`).
    children: BTreeSet<String>,
    uses: Vec<UseLeaf>,
    /// Other paths of two or more segments, with their line.
    paths: Vec<(Vec<String>, usize)>,
}

fn parse(tokens: &[(Tok, usize)]) -> Parsed {
    let mut parsed = Parsed::default();
    let ident = |i: usize| match tokens.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let punct = |i: usize, c: char| matches!(tokens.get(i), Some((Tok::Punct(p), _)) if *p == c);
    let mut i = 0;
    while i < tokens.len() {
        // `#[cfg(test)]`: skip the item it guards.
        if punct(i, '#')
            && punct(i + 1, '[')
            && ident(i + 2) == Some("cfg")
            && punct(i + 3, '(')
            && ident(i + 4) == Some("test")
            && punct(i + 5, ')')
            && punct(i + 6, ']')
        {
            i = skip_item(tokens, i + 7);
            continue;
        }
        if ident(i) == Some("mod")
            && let Some(name) = ident(i + 1)
            && punct(i + 2, ';')
        {
            parsed.children.insert(name.to_owned());
            i += 3;
            continue;
        }
        if ident(i) == Some("use") {
            let line = tokens[i].1;
            let mut j = i + 1;
            use_tree(tokens, &mut j, Vec::new(), line, &mut parsed.uses);
            i = j;
            continue;
        }
        // `pub(in crate::x)` is a visibility, not a use of `crate::x`.
        let visibility = ident(i.wrapping_sub(1)) == Some("in") && punct(i.wrapping_sub(2), '(');
        if let Some(first) = ident(i)
            && matches!(tokens.get(i + 1), Some((Tok::Sep, _)))
            && !matches!(tokens.get(i.wrapping_sub(1)), Some((Tok::Sep, _)))
            && !visibility
        {
            let line = tokens[i].1;
            let mut path = vec![first.to_owned()];
            let mut j = i + 1;
            while matches!(tokens.get(j), Some((Tok::Sep, _)))
                && let Some(next) = ident(j + 1)
            {
                path.push(next.to_owned());
                j += 2;
            }
            parsed.paths.push((path, line));
            i = j;
            continue;
        }
        i += 1;
    }
    parsed
}

/// Skips attributes and then one item: up to its `;`, or its first `{...}` block.
fn skip_item(tokens: &[(Tok, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some((tok, _)) = tokens.get(i) {
        i += 1;
        match tok {
            Tok::Punct('{' | '[' | '(') => depth += 1,
            Tok::Punct('}') if depth == 1 => return i,
            Tok::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
            Tok::Punct(';') if depth == 0 => return i,
            _ => {}
        }
    }
    i
}

/// Parses a use tree at `*i`, appending its leaves; leaves `*i` after the tree.
fn use_tree(
    tokens: &[(Tok, usize)],
    i: &mut usize,
    mut prefix: Vec<String>,
    line: usize,
    out: &mut Vec<UseLeaf>,
) {
    loop {
        match tokens.get(*i) {
            Some((Tok::Ident(s), _)) if s == "as" => {
                *i += 1;
                if let Some((Tok::Ident(alias), _)) = tokens.get(*i) {
                    *i += 1;
                    let name = (alias != "_").then(|| alias.clone());
                    out.push(UseLeaf {
                        path: prefix,
                        name,
                        line,
                    });
                }
                return;
            }
            Some((Tok::Ident(s), _)) => {
                prefix.push(s.clone());
                *i += 1;
            }
            Some((Tok::Sep, _)) => *i += 1,
            Some((Tok::Punct('*'), _)) => {
                *i += 1;
                out.push(UseLeaf {
                    path: prefix,
                    name: None,
                    line,
                });
                return;
            }
            Some((Tok::Punct('{'), _)) => {
                *i += 1;
                loop {
                    match tokens.get(*i) {
                        Some((Tok::Punct('}'), _)) | None => {
                            *i += 1;
                            return;
                        }
                        Some((Tok::Punct(','), _)) => *i += 1,
                        _ => use_tree(tokens, i, prefix.clone(), line, out),
                    }
                }
            }
            _ => {
                // `self` in a group names the prefix itself.
                if prefix.last().is_some_and(|s| s == "self") {
                    prefix.pop();
                }
                let name = prefix.last().cloned();
                out.push(UseLeaf {
                    path: prefix,
                    name,
                    line,
                });
                return;
            }
        }
    }
}

/// Every module of the crate under `src`, with its file (test-only modules excluded).
fn modules(src: &Path) -> BTreeMap<ModPath, (PathBuf, Parsed)> {
    let mut found = BTreeMap::new();
    let mut todo = vec![(ModPath::new(), src.join("lib.rs"))];
    while let Some((path, file)) = todo.pop() {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading `{}`: {e}", file.display()));
        let parsed = parse(&tokenize(&text));
        let dir = if path.is_empty() || file.ends_with("mod.rs") {
            file.parent().expect("a file has a folder").to_owned()
        } else {
            file.with_extension("")
        };
        for child in &parsed.children {
            let flat = dir.join(format!("{child}.rs"));
            let file = if flat.exists() {
                flat
            } else {
                dir.join(child).join("mod.rs")
            };
            let mut child_path = path.clone();
            child_path.push(child.clone());
            todo.push((child_path, file));
        }
        found.insert(path, (file, parsed));
    }
    found
}

struct Graph<'a> {
    modules: &'a BTreeMap<ModPath, (PathBuf, Parsed)>,
}

impl Graph<'_> {
    fn is_child(&self, module: &ModPath, name: &str) -> bool {
        self.modules[module].1.children.contains(name)
    }

    /// The module where `path`, written in `from`, is defined; `None` outside the crate.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<ModPath> {
        let (first, rest) = path.split_first()?;
        let (mut module, mut rest) = match first.as_str() {
            "crate" => (ModPath::new(), rest),
            "self" => (from.clone(), rest),
            "super" => {
                let mut module = from.clone();
                module.pop()?;
                let mut rest = rest;
                while rest.first().is_some_and(|s| s == "super") {
                    module.pop()?;
                    rest = &rest[1..];
                }
                (module, rest)
            }
            name if self.is_child(from, name) => (from.clone(), path),
            name => {
                // A module imported by name (`use crate::memo::{self, Memo}` then `memo::x`).
                let target = self.imported(from, name, depth)?;
                (target, rest)
            }
        };
        while let Some((next, tail)) = rest.split_first() {
            if self.is_child(&module, next) {
                module.push(next.clone());
                rest = tail;
            } else {
                // An item the module imports (and may re-export): where it is defined.
                if let Some(source) = self.imported(&module, next, depth) {
                    return Some(source);
                }
                break;
            }
        }
        Some(module)
    }

    /// The module that defines `name` as `module`'s own `use` brings it in, if it is from this
    /// crate: the module itself when `name` is a module, else the module defining the item.
    fn imported(&self, module: &ModPath, name: &str, depth: usize) -> Option<ModPath> {
        if depth > 16 {
            return None;
        }
        let leaf = self.modules[module]
            .1
            .uses
            .iter()
            .find(|u| u.name.as_deref() == Some(name))?;
        self.resolve(module, &leaf.path, depth + 1)
    }

    /// Each module's dependencies, with the line of the first use that makes each one.
    fn edges(&self) -> BTreeMap<ModPath, BTreeMap<ModPath, usize>> {
        let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, usize>> = BTreeMap::new();
        for (module, (_, parsed)) in self.modules {
            let out = edges.entry(module.clone()).or_default();
            let uses = parsed.uses.iter().map(|u| (&u.path, u.line));
            let paths = parsed.paths.iter().map(|(p, l)| (p, *l));
            for (path, line) in uses.chain(paths) {
                if let Some(target) = self.resolve(module, path, 0)
                    && target != *module
                {
                    out.entry(target).or_insert(line);
                }
            }
        }
        edges
    }
}

/// Strongly connected components with more than one module: each is a circle.
fn circles(edges: &BTreeMap<ModPath, BTreeMap<ModPath, usize>>) -> Vec<Vec<ModPath>> {
    // Reachability by search from each node; the crate is small.
    let reach = |from: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for next in edges.get(&m).into_iter().flat_map(BTreeMap::keys) {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&ModPath, BTreeSet<ModPath>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut circles = Vec::new();
    for m in edges.keys() {
        if done.contains(m) || !reachable[m].contains(m) {
            continue;
        }
        let members: Vec<ModPath> = edges
            .keys()
            .filter(|n| reachable[m].contains(*n) && reachable[*n].contains(m))
            .cloned()
            .collect();
        done.extend(members.iter().cloned());
        circles.push(members);
    }
    circles
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

#[test]
fn every_module_dependency_goes_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let graph = Graph { modules: &modules };
    let edges = graph.edges();
    let mut report = String::new();
    for circle in circles(&edges) {
        report.push_str(&format!(
            "circle: {}\n",
            circle.iter().map(name).collect::<Vec<_>>().join(", ")
        ));
        for from in &circle {
            for (to, line) in &edges[from] {
                if circle.contains(to) {
                    let file = modules[from]
                        .0
                        .strip_prefix(&src)
                        .unwrap_or(&modules[from].0);
                    report.push_str(&format!(
                        "  {} -> {}  ({}:{line})\n",
                        name(from),
                        name(to),
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(report.is_empty(), "import circles in host/src:\n{report}");
}

#[test]
fn the_check_finds_a_circle_and_follows_re_exports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\n");
    // a uses b through a re-export of c; c uses a: a -> c -> a, while b is only a facade.
    write(
        "a.rs",
        "use crate::b::Thing;\n/// crate::c::x in a comment\nfn f() {}\n",
    );
    write("b.rs", "pub use crate::c::Thing;\n");
    write(
        "c.rs",
        "pub struct Thing;\nfn g() { let s = \"crate::b\"; super::a::f(); }\n#[cfg(test)]\nmod tests { use crate::b::Thing; }\n",
    );
    let modules = modules(dir.path());
    let edges = Graph { modules: &modules }.edges();
    let m = |s: &str| vec![s.to_owned()];
    assert_eq!(edges[&m("a")].keys().collect::<Vec<_>>(), [&m("c")]);
    assert_eq!(edges[&m("b")].keys().collect::<Vec<_>>(), [&m("c")]);
    assert_eq!(edges[&m("c")].keys().collect::<Vec<_>>(), [&m("a")]);
    assert_eq!(circles(&edges), vec![vec![m("a"), m("c")]]);
}
