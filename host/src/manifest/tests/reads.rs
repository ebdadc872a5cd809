//! Declared reads: op fields, collections, indexes, templates and page sizes.

use super::*;

/// A route `GET /memes/{id}` with collections `memes` (index `new`) and counter `votes`, and
/// these reads.
fn with_reads(reads: &str) -> String {
    with(&format!(
        "[collections.memes]\nindexes = [\"new\"]\n[collections.votes]\ncounter = true\n\
         [[routes]]\nroute = \"GET /memes/{{id}}\"\ncomponent = \"api\"\nreads = [\n{reads}\n]\n"
    ))
}

const READS_LINE: &str = "12";

#[test]
fn suggests_a_known_read_op() {
    let text = with_reads("{ name = \"m\", op = \"lst\", collection = \"memes\" },");
    assert_single(
        &text,
        "unknown read op `lst`",
        &format!("{READS_LINE}:20"),
        "did you mean `list`?",
    );
}

#[test]
fn rejects_fields_the_op_does_not_take() {
    let text = with_reads(
        "{ name = \"m\", op = \"get\", collection = \"memes\", key = \"{id}\", index = \"new\" },",
    );
    assert_single(
        &text,
        "`index` does not apply to a `get` read",
        &format!("{READS_LINE}:71"),
        "a `get` read takes `collection` and `key`; remove `index`",
    );
    let text = with_reads("{ name = \"t\", op = \"now\", collection = \"memes\" },");
    assert_single(
        &text,
        "`collection` does not apply to a `now` read",
        &format!("{READS_LINE}:40"),
        "a `now` read takes nothing else; remove `collection`",
    );
}

#[test]
fn requires_the_fields_of_the_op() {
    let text = with_reads("{ name = \"m\", op = \"get\", collection = \"memes\" },");
    assert_single(
        &text,
        "`get` read `m` needs `key`",
        &format!("{READS_LINE}:1"),
        "add `key = \"{id}\"`",
    );
}

#[test]
fn rejects_an_undeclared_collection_in_a_read() {
    let text = with_reads("{ name = \"m\", op = \"count\", collection = \"meme\" },");
    assert_single(
        &text,
        "unknown collection `meme`",
        &format!("{READS_LINE}:42"),
        "did you mean `memes`?",
    );
    let text = with_reads("{ name = \"m\", op = \"count\", collection = \"users\" },");
    assert_single(
        &text,
        "unknown collection `users`",
        &format!("{READS_LINE}:42"),
        "declare it under `[collections.users]`",
    );
}

#[test]
fn rejects_an_undeclared_index() {
    let text =
        with_reads("{ name = \"p\", op = \"list\", collection = \"memes\", index = \"old\" },");
    assert_single(
        &text,
        "collection `memes` has no index `old`",
        &format!("{READS_LINE}:58"),
        "its indexes are `new`; declare more under `[collections.memes]`",
    );
}

#[test]
fn rejects_a_counter_read_of_a_plain_collection() {
    let text =
        with_reads("{ name = \"m\", op = \"counter\", collection = \"memes\", key = \"{id}\" },");
    assert_single(
        &text,
        "collection `memes` does not hold counters",
        &format!("{READS_LINE}:20"),
        "use `op = \"get\"`, or set `counter = true` under `[collections.memes]`",
    );
}

#[test]
fn rejects_get_of_a_counter_collection() {
    let text =
        with_reads("{ name = \"v\", op = \"get\", collection = \"votes\", key = \"{id}\" },");
    assert_single(
        &text,
        "collection `votes` holds counters, which `get` cannot read",
        &format!("{READS_LINE}:20"),
        "use `op = \"counter\"`",
    );
}

#[test]
fn rejects_template_placeholders_that_are_not_route_captures() {
    let text = with_reads(
        "{ name = \"m\", op = \"get\", collection = \"memes\", key = \"meme:{slug}\" },",
    );
    assert_single(
        &text,
        "`{slug}` is not a capture of route `GET /memes/{id}`",
        &format!("{READS_LINE}:61"),
        "its captures are `{id}`; for a query parameter write `{query.slug}`",
    );
    let text =
        with_reads("{ name = \"m\", op = \"get\", collection = \"memes\", key = \"{idd}\" },");
    assert_single(
        &text,
        "`{idd}` is not a capture of route `GET /memes/{id}`",
        &format!("{READS_LINE}:56"),
        "did you mean `{id}`?",
    );
}

#[test]
fn accepts_query_placeholders_and_caps_the_default_page() {
    let m = parse(&with_reads(
        "{ name = \"p\", op = \"list\", collection = \"votes\", index = \"value\", cursor = \"{query.after}\", max_limit = 10 },",
    ))
    .unwrap();
    let ReadDeclOp::List {
        default_limit,
        max_limit,
        descending,
        cursor,
        ..
    } = &m.routes[0].reads[0].op
    else {
        panic!("expected a list read");
    };
    assert_eq!((*default_limit, *max_limit, *descending), (10, 10, false));
    assert_eq!(
        cursor.as_ref().unwrap().queries().collect::<Vec<_>>(),
        ["after"]
    );
}

#[test]
fn rejects_a_default_limit_above_max_limit() {
    let text =
        with_reads("{ name = \"p\", op = \"list\", collection = \"memes\", default_limit = 200 },");
    assert_single(
        &text,
        "`default_limit` 200 is above `max_limit` (100 by default)",
        &format!("{READS_LINE}:66"),
        "lower `default_limit`, or set `max_limit = 200` or more",
    );
    let text =
        with_reads("{ name = \"p\", op = \"list\", collection = \"memes\", max_limit = 0 },");
    assert_single(
        &text,
        "`max_limit` must be between 1 and 4294967295",
        &format!("{READS_LINE}:62"),
        "e.g. `max_limit = 100`",
    );
}

#[test]
fn rejects_an_unknown_direction() {
    let text = with_reads(
        "{ name = \"p\", op = \"list\", collection = \"memes\", direction = \"desc\" },",
    );
    assert_single(
        &text,
        "unknown direction `desc`",
        &format!("{READS_LINE}:62"),
        "did you mean `descending`?",
    );
}

#[test]
fn rejects_duplicate_read_names() {
    let text = with_reads("{ name = \"t\", op = \"now\" },\n{ name = \"t\", op = \"now\" },");
    let line = READS_LINE.parse::<usize>().unwrap() + 1;
    assert_single(
        &text,
        "read `t` is declared twice in this route",
        &format!("{line}:10"),
        "the first is on line 12; give each read its own name",
    );
}

#[test]
fn checks_the_fields_of_each_read() {
    let text = with_reads("{ nmae = \"m\", op = \"now\" },");
    assert_single(
        &text,
        "unknown field `nmae`",
        &format!("{READS_LINE}:3"),
        "did you mean `name`?",
    );
}

#[test]
fn requires_a_name_and_an_op() {
    let err = error(&with_reads("{ collection = \"memes\" },"));
    let messages: Vec<_> = err.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["read has no `name`", "read has no `op`"]);
    assert_eq!(
        err.diagnostics[1].hint.as_deref(),
        Some("add `op = \"...\"`, one of `get`, `counter`, `count`, `list`, `now`, `random`")
    );
}

#[test]
fn lets_templates_use_tail_captures() {
    let text = with(
        "[collections.files]\n[[routes]]\nroute = \"GET /files/{*path}\"\ncomponent = \"api\"\n\
         reads = [{ name = \"f\", op = \"get\", collection = \"files\", key = \"{path}\" }]\n",
    );
    let m = parse(&text).unwrap();
    let ReadDeclOp::Get { key, .. } = &m.routes[0].reads[0].op else {
        panic!("expected a get read");
    };
    assert_eq!(key.params().collect::<Vec<_>>(), ["path"]);
}
