//! `dpuctl show`: one view of every NIC.

use std::process::ExitCode;

use crate::cli::{Format, ShowArgs};
use crate::output;
use crate::sys::SysRoot;

/// Runs `show`.
pub fn run(root: &SysRoot, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let mut state = crate::source::load(root, args.from.as_deref(), &args.ifaces)?;
    if args.ifaces.is_empty() && !args.all {
        state.interfaces.retain(|i| i.name != "lo");
    }
    let text = match args.format {
        Format::Json if args.module => output::json(&output::module::modules_doc(&state))?,
        Format::Yaml if args.module => output::yaml(&output::module::modules_doc(&state))?,
        Format::Table if args.module => output::module::module_view(&state),
        Format::Json => output::json(&state)?,
        Format::Yaml => output::yaml(&state)?,
        Format::Table if args.stats => output::show_table_with_stats(&state),
        Format::Table => output::show_table(&state),
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
