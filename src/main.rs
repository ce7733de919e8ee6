//! The `dpuctl` binary: parse arguments, run, print the error chain, set the exit code.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A shell asking for completions (COMPLETE=bash dpuctl -- ...) is answered here.
    dpuctl::cmd::complete_if_asked();
    match dpuctl::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`dpuctl show | head`) is not an error worth a message.
            if dpuctl::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // One line: the error and its causes, outermost first.
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "dpuctl: {err}");
            for cause in err.chain().skip(1) {
                let _ = write!(stderr, ": {cause}");
            }
            let _ = writeln!(stderr);
            ExitCode::from(2)
        }
    }
}
