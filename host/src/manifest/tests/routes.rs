//! Routes: the route line, the handler, grants, body limits and clashing routes.

use super::*;

#[test]
fn rejects_a_lower_case_method_with_hint() {
    let text = with("[[routes]]\nroute = \"get /memes\"\ncomponent = \"api\"\n");
    assert_single(
        &text,
        "method `get` must be upper case",
        "5:10",
        "write `GET /memes`",
    );
}

#[test]
fn accepts_any_method_and_custom_methods() {
    let m = parse(&with("[[routes]]\nroute = \"* /a\"\ncomponent = \"api\"\n[[routes]]\nroute = \"PURGE /b\"\ncomponent = \"api\"\n")).unwrap();
    assert_eq!(m.routes[0].method, MethodMatch::Any);
    assert_eq!(m.routes[1].method, MethodMatch::One("PURGE".into()));
}

#[test]
fn rejects_a_route_without_method() {
    let text = with("[[routes]]\nroute = \"/memes\"\ncomponent = \"api\"\n");
    assert_single(
        &text,
        "route `/memes` has no method",
        "5:9",
        "write `GET /memes`, or `* /memes` to take every method",
    );
}

#[test]
fn reports_path_errors_from_the_router_at_the_path() {
    let text = with("[[routes]]\nroute = \"GET memes\"\ncomponent = \"api\"\n");
    assert_single(
        &text,
        "path `memes` must start with `/`",
        "5:14",
        "write `GET /memes`",
    );
    let err = error(&with(
        "[[routes]]\nroute = \"GET /m/x{id}\"\ncomponent = \"api\"\n",
    ))
    .to_string();
    assert!(
        err.contains("segment `x{id}` of `/m/x{id}` mixes text and a capture"),
        "{err}"
    );
}

#[test]
fn rejects_a_duplicate_route_naming_both_lines() {
    let route = "[[routes]]\nroute = \"GET /memes/{id}\"\ncomponent = \"api\"\n";
    let text = with(&format!("{route}{route}"));
    assert_single(
        &text,
        "duplicate route `GET /memes/{id}`, already declared on line 5",
        "8:9",
        "remove one of them, or change its method or path",
    );
}

#[test]
fn rejects_routes_an_earlier_route_always_answers() {
    let text = with(
        "[[routes]]\nroute = \"GET /m/{id}\"\ncomponent = \"api\"\n[[routes]]\nroute = \"GET /m/{name}\"\ncomponent = \"api\"\n",
    );
    let err = error(&text).to_string();
    assert!(
        err.contains("route `GET /m/{name}` matches the same requests as `GET /m/{id}` on line 5"),
        "{err}"
    );
    let text = with(
        "[[routes]]\nroute = \"* /x\"\ncomponent = \"api\"\n[[routes]]\nroute = \"POST /x\"\ncomponent = \"api\"\n",
    );
    assert_single(
        &text,
        "route `POST /x` is never reached: `* /x` on line 5 takes every method first",
        "8:9",
        "move it above line 5, or remove it",
    );
    // The other way round is fine: POST is tried first, `*` takes the rest.
    parse(&with("[[routes]]\nroute = \"POST /x\"\ncomponent = \"api\"\n[[routes]]\nroute = \"* /x\"\ncomponent = \"api\"\n")).unwrap();
}

#[test]
fn requires_exactly_one_handler() {
    let text = with("[[routes]]\nroute = \"GET /\"\n");
    assert_single(
        &text,
        "route `GET /` has no handler",
        "5:9",
        "add `component = \"api\"`, or `pipeline = [...]` for several steps",
    );
    let text = with("[[routes]]\nroute = \"GET /\"\ncomponent = \"api\"\npipeline = [\"api\"]\n");
    assert_single(
        &text,
        "route has both `component` and `pipeline`",
        "7:12",
        "keep `component` for one step, or list every step in `pipeline`",
    );
    let text = with("[[routes]]\nroute = \"GET /\"\npipeline = []\n");
    assert_single(
        &text,
        "`pipeline` is empty",
        "6:12",
        "list the components to run in order, e.g. `pipeline = [\"parse\", \"render\"]`",
    );
}

#[test]
fn accepts_a_pipeline_in_order() {
    let m = parse(&with("[components.render]\npath = \"r.wasm\"\n[[routes]]\nroute = \"GET /\"\npipeline = [\"api\", \"render\"]\n")).unwrap();
    assert_eq!(m.routes[0].steps, ["api", "render"]);
}

#[test]
fn suggests_a_declared_component_for_an_unknown_id() {
    let text = with("[[routes]]\nroute = \"GET /\"\ncomponent = \"apii\"\n");
    assert_single(
        &text,
        "unknown component `apii`",
        "6:13",
        "did you mean `api`?",
    );
    let text = with("[[routes]]\nroute = \"GET /\"\npipeline = [\"api\", \"render\"]\n");
    assert_single(
        &text,
        "unknown component `render`",
        "6:20",
        "declare it under `[components.render]`",
    );
}

#[test]
fn requires_the_route_line() {
    let text = with("[[routes]]\ncomponent = \"api\"\n");
    assert_single(
        &text,
        "route has no `route`",
        "4:1",
        "add e.g. `route = \"GET /hello\"`",
    );
}

#[test]
fn rejects_undeclared_collections_in_grants() {
    let text = with(
        "[collections.votes]\ncounter = true\n[[routes]]\nroute = \"POST /v\"\ncomponent = \"api\"\nmay_write = [\"vote\"]\n",
    );
    assert_single(
        &text,
        "unknown collection `vote`",
        "9:14",
        "did you mean `votes`?",
    );
}

#[test]
fn takes_the_strictest_body_limit_of_the_steps() {
    let m = parse(&with(
        "[components.small]\npath = \"s.wasm\"\nlimits = { max_body = 100 }\n\
         [[routes]]\nroute = \"POST /a\"\npipeline = [\"api\", \"small\"]\n\
         [[routes]]\nroute = \"POST /b\"\npipeline = [\"api\", \"small\"]\nmax_body = \"1 GiB\"\n",
    ))
    .unwrap();
    assert_eq!((m.routes[0].max_body, m.routes[1].max_body), (100, 1 << 30));
}

#[test]
fn reads_rate_limits_tokens_and_the_public_url() {
    let m = parse(&with(
        "[server]\npublic_url = \"https://memes.example.org/\"\n\
         [[routes]]\nroute = \"POST /vote\"\ncomponent = \"api\"\n\
         reads = [{ name = \"visitor\", op = \"random\" }]\n\
         rate_limit = { requests = 10, per = \"1m\" }\n\
         [[routes]]\nroute = \"GET /admin\"\ncomponent = \"api\"\n\
         auth = { bearer_env = \"ADMIN_TOKEN\" }\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.public_url.as_deref(), Some("https://memes.example.org"));
    assert_eq!(
        m.routes[0].rate_limit,
        Some(RateLimit {
            requests: 10,
            per: Duration::from_secs(60)
        })
    );
    assert_eq!(m.routes[0].reads[0].op, ReadDeclOp::Random);
    assert!(
        m.routes[0].may_read.is_empty(),
        "random reads no collection"
    );
    assert_eq!(
        m.routes[1].auth,
        Some(Auth {
            bearer_env: "ADMIN_TOKEN".into()
        })
    );
    assert_eq!(m.routes[1].rate_limit, None);
}

#[test]
fn rejects_a_rate_limit_window_under_a_second() {
    let text = with(
        "[[routes]]\nroute = \"POST /vote\"\ncomponent = \"api\"\n\
         rate_limit = { requests = 10, per = \"500ms\" }\n",
    );
    assert_single(
        &text,
        "`per` must be from 1s to 1440m (a day)",
        "7:37",
        "e.g. `per = \"1m\"`",
    );
}
