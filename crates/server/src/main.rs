//! `scimd`: the one binary. Everything lives in the library (`scimd_server`) so that tests drive the same code.

fn main() -> std::process::ExitCode {
    scimd_server::cli::main()
}
