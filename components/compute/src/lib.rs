//! `GET /compute/{bench}/{n}`: runs one Benchmarks Game kernel (components/compute-kernels)
//! with size `n` and answers its result text. The benchmark harness (bench/run.py) compares its
//! time with the same kernels compiled natively (bench/native).
#![no_std]

use nebula_guest::*;

struct Compute;

impl Guest for Compute {
    fn handle(input: Input) -> Outcome {
        let param = |name: &str| {
            input
                .request
                .params
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.value.as_str())
        };
        let (Some(bench), Some(n)) = (param("bench"), param("n")) else {
            return respond(
                404,
                "text/plain; charset=utf-8",
                "use /compute/{bench}/{n}\n",
            );
        };
        let Ok(n) = n.parse::<u64>() else {
            return respond(400, "text/plain; charset=utf-8", "n must be a number\n");
        };
        match compute_kernels::run(bench, n) {
            Some(result) => respond(200, "text/plain; charset=utf-8", result),
            None => respond(
                404,
                "text/plain; charset=utf-8",
                format!(
                    "unknown benchmark or size out of range; benchmarks: {}\n",
                    compute_kernels::NAMES.join(", ")
                ),
            ),
        }
    }
}

export_handler!(Compute);
