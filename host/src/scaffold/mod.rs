//! `nebula-host new rust|python|js|c NAME`: a handler project that builds and serves at once —
//! sources, a build command and a manifest with a route — from templates embedded in the binary.
//!
//! Every template answers `GET /hello/{name}` with `Hello, NAME!` and names its build command in
//! its `nebula.toml`, so `nebula-host up NAME/nebula.toml --build` is the next step in every
//! language. Each one also gets a copy of `wit/` (the world it is built against); the Rust one a
//! copy of the guest SDK (`nebula-guest` is not published yet).
//!
//! This module only writes files into a folder it creates: it never runs a build or overwrites
//! anything.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The languages `new` has a template for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// no_std Rust with the nebula-guest SDK (cargo, target wasm32-wasip2)
    Rust,
    /// componentize-py with --stub-wasi
    Python,
    /// ComponentizeJS with every engine feature disabled
    Js,
    /// clang's wasm32 target with wasi-libc, wit-bindgen's C bindings, `nebula-host componentize`
    C,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::Js => "JavaScript",
            Language::C => "C",
        })
    }
}

/// Why no project was created.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "`{0}` cannot name a handler: use lowercase letters, digits and `-`, starting with a letter (at most 64), e.g. `hello-world`"
    )]
    BadName(String),
    #[error("`{}` already exists and is not empty; choose another NAME or `--dir`", .0.display())]
    NotEmpty(PathBuf),
    #[error("writing `{}`", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What [`create`] made.
#[derive(Debug)]
pub struct Created {
    pub dir: PathBuf,
    /// Relative paths of the files written, in writing order.
    pub files: Vec<PathBuf>,
}

/// One file of a template: its path in the project, and its text with `{{name}}` (the handler's
/// name), `{{crate}}` and `{{file}}` (the name with `_` for `-`) still to fill in.
type File = (&'static str, &'static str);

/// The Python, JavaScript and C templates are written against `nebula:pure@0.1.0`, which the host
/// still serves (see component/v0_1.rs); the Rust one gets 0.2.0 through its copy of the SDK.
const WIT: &[File] = &[("wit/pure.wit", include_str!("../../../wit/0.1.0/pure.wit"))];

const RUST: &[File] = &[
    ("Cargo.toml", include_str!("templates/rust/Cargo.toml")),
    (
        ".cargo/config.toml",
        include_str!("templates/rust/cargo-config.toml"),
    ),
    ("src/lib.rs", include_str!("templates/rust/src/lib.rs")),
    ("nebula.toml", include_str!("templates/rust/nebula.toml")),
    (".gitignore", include_str!("templates/rust/gitignore")),
];

/// The guest SDK, copied as it is in `components/sdk` (see [`SDK_LIB`] for lib.rs).
const SDK: &[File] = &[
    (
        "nebula-guest/Cargo.toml",
        include_str!("templates/rust/sdk-Cargo.toml"),
    ),
    (
        "nebula-guest/src/heap.rs",
        include_str!("../../../components/sdk/src/heap.rs"),
    ),
    (
        "nebula-guest/src/json.rs",
        include_str!("../../../components/sdk/src/json.rs"),
    ),
    (
        "nebula-guest/src/panic.rs",
        include_str!("../../../components/sdk/src/panic.rs"),
    ),
    (
        "nebula-guest/src/query.rs",
        include_str!("../../../components/sdk/src/query.rs"),
    ),
    (
        "nebula-guest/src/reads.rs",
        include_str!("../../../components/sdk/src/reads.rs"),
    ),
    (
        "nebula-guest/src/reply.rs",
        include_str!("../../../components/sdk/src/reply.rs"),
    ),
    (
        "nebula-guest/src/request.rs",
        include_str!("../../../components/sdk/src/request.rs"),
    ),
    (
        "nebula-guest/src/testing.rs",
        include_str!("../../../components/sdk/src/testing.rs"),
    ),
    (
        "nebula-guest/src/write.rs",
        include_str!("../../../components/sdk/src/write.rs"),
    ),
    (
        "nebula-guest/wit/pure.wit",
        include_str!("../../../wit/pure.wit"),
    ),
    // The SDK decodes queries with the host's own crate (crates/urlencoded).
    (
        "nebula-urlencoded/Cargo.toml",
        include_str!("templates/rust/urlencoded-Cargo.toml"),
    ),
    (
        "nebula-urlencoded/src/lib.rs",
        include_str!("../../../crates/urlencoded/src/lib.rs"),
    ),
];

/// The SDK's lib.rs finds the WIT files two folders up, in the repository's `wit/`; its copy
/// has them beside it.
const SDK_LIB: &str = include_str!("../../../components/sdk/src/lib.rs");
const SDK_WIT_PATH: (&str, &str) = (r#"path: "../../wit","#, r#"path: "wit","#);

const PYTHON: &[File] = &[
    ("app.py", include_str!("templates/python/app.py")),
    ("build.sh", include_str!("templates/python/build.sh")),
    ("nebula.toml", include_str!("templates/python/nebula.toml")),
    (".gitignore", include_str!("templates/python/gitignore")),
];

const JS: &[File] = &[
    ("handler.js", include_str!("templates/js/handler.js")),
    ("build.mjs", include_str!("templates/js/build.mjs")),
    ("build.sh", include_str!("templates/js/build.sh")),
    ("package.json", include_str!("templates/js/package.json")),
    (".gitignore", include_str!("templates/js/gitignore")),
    ("nebula.toml", include_str!("templates/js/nebula.toml")),
];

/// The lock file that pins ComponentizeJS and its dependencies, shared with the tag cloud.
const JS_LOCK: &str = include_str!("../../../components/tagcloud-js/package-lock.json");
const JS_LOCK_NAME: &str = r#""name": "tagcloud-js""#;

const C: &[File] = &[
    // The demo's C handler (manifests/demo.toml) is the template: CI builds and serves it.
    (
        "handler.c",
        include_str!("../../../components/hello-c/handler.c"),
    ),
    ("build.sh", include_str!("templates/c/build.sh")),
    ("nebula.toml", include_str!("templates/c/nebula.toml")),
    (".gitignore", include_str!("templates/c/gitignore")),
];

/// Creates the project `name` in `language` in `dir` (which must not exist or be empty).
pub fn create(language: Language, name: &str, dir: &Path) -> Result<Created, NewError> {
    check_name(name)?;
    let not_empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if not_empty {
        return Err(NewError::NotEmpty(dir.to_path_buf()));
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{file}}", &name.replace('-', "_"))
    };
    let mut add = |set: &[File]| {
        for (path, text) in set {
            files.push((PathBuf::from(path), fill(text)));
        }
    };
    match language {
        Language::Rust => {
            add(RUST);
            add(SDK);
            let (from, to) = SDK_WIT_PATH;
            files.push(("nebula-guest/src/lib.rs".into(), SDK_LIB.replace(from, to)));
        }
        Language::Python => {
            add(PYTHON);
            add(WIT);
        }
        Language::Js => {
            add(JS);
            add(WIT);
            let lock = JS_LOCK.replace(JS_LOCK_NAME, &format!(r#""name": "{name}""#));
            files.push(("package-lock.json".into(), lock));
        }
        Language::C => {
            add(C);
            add(WIT);
        }
    }
    for (path, text) in &files {
        let full = dir.join(path);
        let write = || {
            std::fs::create_dir_all(full.parent().expect("a file has a folder"))?;
            std::fs::write(&full, text)
        };
        write().map_err(|source| NewError::Write {
            path: full.clone(),
            source,
        })?;
    }
    Ok(Created {
        dir: dir.to_path_buf(),
        files: files.into_iter().map(|(path, _)| path).collect(),
    })
}

/// `nebula-host new`: creates the project in `dir` (default `./NAME`) and says how to serve it.
pub fn run(language: Language, name: &str, dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let created = create(language, name, &dir)?;
    println!(
        "created {language} handler `{name}` in {}:",
        created.dir.display()
    );
    for file in &created.files {
        println!("  {}", file.display());
    }
    println!("serve it (builds first):");
    println!(
        "  nebula-host up {} --build",
        created.dir.join("nebula.toml").display()
    );
    println!("  curl http://127.0.0.1:8080/hello/world");
    Ok(ExitCode::SUCCESS)
}

/// A name that is at once a cargo package, a manifest component id and a file name.
fn check_name(name: &str) -> Result<(), NewError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    match ok {
        true => Ok(()),
        false => Err(NewError::BadName(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_are_not_crate_and_component_names() {
        for bad in ["", "Hello", "1st", "-x", "a_b", "a b", "ü", &"x".repeat(65)] {
            assert!(
                matches!(check_name(bad), Err(NewError::BadName(_))),
                "{bad:?}"
            );
        }
        for good in ["a", "hello", "hello-world-2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn fills_every_placeholder_of_every_template() -> anyhow::Result<()> {
        for language in [Language::Rust, Language::Python, Language::Js, Language::C] {
            let temp = tempfile::tempdir()?;
            let dir = temp.path().join("my-handler");
            let created = create(language, "my-handler", &dir)?;
            for file in &created.files {
                let text = std::fs::read_to_string(dir.join(file))?;
                assert!(
                    !text.contains("{{"),
                    "{language}: {} keeps a placeholder",
                    file.display()
                );
            }
            let manifest = std::fs::read_to_string(dir.join("nebula.toml"))?;
            assert!(manifest.contains("[components.my-handler]"), "{manifest}");
            assert!(
                manifest.contains("route = \"GET /hello/{name}\""),
                "{manifest}"
            );
            assert!(manifest.contains("build = "), "{manifest}");
        }
        Ok(())
    }

    #[test]
    fn refuses_a_folder_that_is_not_empty_and_writes_nothing() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        std::fs::write(temp.path().join("keep.txt"), "mine")?;
        let err = create(Language::Rust, "x", temp.path()).unwrap_err();
        assert!(matches!(err, NewError::NotEmpty(_)), "{err}");
        assert_eq!(std::fs::read_dir(temp.path())?.count(), 1);
        Ok(())
    }

    /// The Rust template copies the SDK file by file: a new file in components/sdk/src must be
    /// added to [`SDK`], and lib.rs must still name the WIT path the copy rewrites.
    #[test]
    fn copies_every_file_of_the_sdk() -> anyhow::Result<()> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../components/sdk/src");
        for entry in std::fs::read_dir(src)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let path = format!("nebula-guest/src/{name}");
            assert!(
                name == "lib.rs" || SDK.iter().any(|(p, _)| *p == path),
                "components/sdk/src/{name} is not copied by `new rust`: add it to SDK"
            );
        }
        assert!(SDK_LIB.contains(SDK_WIT_PATH.0));
        assert_eq!(JS_LOCK.matches(JS_LOCK_NAME).count(), 2);
        Ok(())
    }
}
