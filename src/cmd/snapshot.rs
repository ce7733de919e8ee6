//! `dpuctl snapshot`: the whole node state plus a counter sample, as JSON.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::SnapshotArgs;
use crate::sys::{collect, SysRoot};

/// Runs `snapshot`.
pub fn run(root: &SysRoot, args: &SnapshotArgs) -> anyhow::Result<ExitCode> {
    let state = collect::collect(root, &[])?;
    let mut json = serde_json::to_vec_pretty(&state)?;
    json.push(b'\n');
    match &args.output {
        Some(path) => {
            // A file is replaced atomically, a pipe or a device written in place.
            crate::output::write_file(path, &json)
                .with_context(|| format!("failed to write snapshot {}", path.display()))?;
            if crate::output::verbosity() >= crate::output::Verbosity::Normal {
                eprintln!(
                    "dpuctl: wrote {} ({} interfaces)",
                    path.display(),
                    state.interfaces.len()
                );
            }
        }
        None => crate::output::write_stdout(&json)?,
    }
    Ok(ExitCode::SUCCESS)
}
