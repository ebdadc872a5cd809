//! Writes sample memes to `target/memegen-samples/` (at the repository root) for eyeballing.
//! `examples/bench.rs` measures speed (tests assert no timings).

use std::path::PathBuf;

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/memegen-samples");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const CAPTIONS: &[(&str, &str, &str)] = &[
    (
        "chalkboard",
        "When the proof is left",
        "as an exercise to the reader",
    ),
    (
        "reviewer-2",
        "Minor revisions",
        "Rewrite the paper, redo the experiments, and cite my 14 papers",
    ),
    ("p-value", "p = 0.051", "Trending towards significance"),
    (
        "deadline",
        "Deadline in 1 hour",
        "Time to choose a font for the title",
    ),
    ("latex", "Me: adds one package", "LaTeX:"),
    ("thesis", "Thesis_final_v7_REAL.pdf", "Thesis_final_v8.pdf"),
    ("lab", "It worked once", "Never again"),
    (
        "conference",
        "So, this is more of a comment",
        "than a question",
    ),
    ("graph", "R² = 0.03", "Clear trend"),
];

#[test]
fn write_samples() {
    let dir = out_dir();
    for (id, top, bottom) in CAPTIONS {
        let png = memegen::render(id, top, bottom).unwrap();
        std::fs::write(dir.join(format!("{id}.png")), &png).unwrap();
        let plain = memegen::render(id, "", "").unwrap();
        std::fs::write(dir.join(format!("{id}-plain.png")), &plain).unwrap();
    }
    let all_ascii: String = (' '..='~').collect();
    let (a, b) = all_ascii.split_at(48);
    std::fs::write(
        dir.join("font-sheet.png"),
        memegen::render("conference", a, b).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("unicode.png"),
        memegen::render(
            "chalkboard",
            "Café über Straße — Ωμέγα",
            "Привет, рецензент № 2!",
        )
        .unwrap(),
    )
    .unwrap();
    let long = "When the reviewer asks for one more experiment and you already spent the whole grant on coffee";
    std::fs::write(
        dir.join("long-text.png"),
        memegen::render("graph", long, "Café naïveté — “ünïcödé” 🎓 ok").unwrap(),
    )
    .unwrap();
    assert!(
        memegen::templates()
            .iter()
            .all(|t| dir.join(format!("{}.png", t.id)).exists())
    );
}
