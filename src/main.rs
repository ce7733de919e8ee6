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
            // One line: the error and its causes, outermost first; a cause that a message
            // already ends with (`{source}` in its text) is not said twice.
            let mut line = format!("dpuctl: {err}");
            for cause in err.chain().skip(1) {
                let cause = cause.to_string();
                if !line.ends_with(&cause) {
                    line.push_str(": ");
                    line.push_str(&cause);
                }
            }
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            ExitCode::from(2)
        }
    }
}
