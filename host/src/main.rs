use std::process::ExitCode;

fn main() -> ExitCode {
    nebula_host::cli::main()
}
