//! `dpuctl profile list|show|validate`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use comfy_table::Table;

use crate::cli::{Format, GlobalArgs, ProfileCommand};
use crate::model::Knob;
use crate::output;
use crate::profile::{resolve, Catalog, Diagnostic, Profile, ProfileError, Resolved};
use crate::sys::SysRoot;

/// Exit code for invalid profiles (as for every error).
const INVALID: u8 = 2;

/// Runs a `profile` subcommand.
pub fn run(g: &GlobalArgs, root: &SysRoot, cmd: ProfileCommand) -> anyhow::Result<ExitCode> {
    let cat = Catalog::new(&g.profile_dir);
    match cmd {
        ProfileCommand::List { format } => list(&cat, format),
        ProfileCommand::Show {
            name,
            resolved,
            format,
            from,
        } => show(&cat, root, &name, resolved, format, from.as_deref()),
        ProfileCommand::Validate { files } => {
            let specs: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            validate(&cat, &specs)
        }
    }
}

fn push_table(out: &mut String, t: &Table) {
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn print_diagnostics(d: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for x in d {
        let _ = writeln!(err, "{x}");
    }
}

fn list(cat: &Catalog, format: Format) -> anyhow::Result<ExitCode> {
    let entries = cat.list()?;
    let text = match format {
        Format::Json => output::json(&entries)?,
        Format::Yaml => output::yaml(&entries)?,
        Format::Table => {
            let mut t = output::table(&["name", "source", "description"]);
            for e in &entries {
                t.add_row(vec![
                    e.name.as_str(),
                    e.source.as_str(),
                    e.description.as_str(),
                ]);
            }
            let mut s = String::new();
            push_table(&mut s, &t);
            s
        }
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Loads a profile; invalid profiles print their diagnostics (one line each) and give
/// `Ok(None)`.
fn load(cat: &Catalog, name: &str) -> anyhow::Result<Option<Profile>> {
    match cat.load(name) {
        Ok(p) => Ok(Some(p)),
        Err(ProfileError::Invalid(d)) => {
            print_diagnostics(&d);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn show(
    cat: &Catalog,
    root: &SysRoot,
    name: &str,
    resolved: bool,
    format: Format,
    from: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    if !resolved && matches!(format, Format::Table) {
        anyhow::bail!(
            "profile show: -f table prints the resolved settings; add --resolved (what \
             '{name}' sets on this node), or use -f yaml (the profile as written) or -f json"
        );
    }
    let Some(profile) = load(cat, name)? else {
        return Ok(ExitCode::from(INVALID));
    };
    let text = if resolved {
        let state = crate::source::load(root, from, &[])?;
        let r = resolve(&profile, &state, &[])
            .map_err(|e| super::tune::resolve_failure(&profile.name, &e))?;
        match format {
            Format::Json => output::json(&r)?,
            Format::Yaml => output::yaml(&r)?,
            Format::Table => resolved_table(&r, &state.hostname),
        }
    } else {
        match format {
            // JSON has no comments: it carries what `tune` reads, inheritance applied.
            Format::Json => output::json(profile.raw())?,
            // The file as written, its "why" comments kept; `load` above validated it.
            Format::Yaml => cat.text(name)?.1,
            Format::Table => unreachable!("rejected above"),
        }
    };
    output::write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The knob without its object: `rings rx` for `eth2 rings rx`.
fn knob_text(k: &Knob) -> String {
    let full = k.to_string();
    full.strip_prefix(k.object())
        .map_or_else(|| full.clone(), |s| s.trim_start().to_string())
}

/// Wraps text to `width` columns, continuation lines indented by `indent` spaces.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    let mut line_start = true;
    for word in text.split(' ') {
        let w = word.chars().count();
        if !line_start && col + 1 + w > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if !line_start {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
        line_start = false;
    }
    out
}

fn resolved_table(r: &Resolved, host: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "profile {} on {host}: {} settings",
        r.profile,
        r.settings.len()
    );
    let mut t = output::table(&["object", "knob", "value"]);
    for s in &r.settings {
        t.add_row(vec![
            s.knob.object().to_string(),
            knob_text(&s.knob),
            if s.at_least {
                format!(">= {}", s.value.to_string().trim_matches('"'))
            } else {
                s.value.to_string()
            },
        ]);
    }
    push_table(&mut out, &t);
    if !r.skipped.is_empty() {
        out.push_str("\nskipped\n");
        for s in &r.skipped {
            let _ = writeln!(
                out,
                "{}",
                wrap(&format!("  {s}"), usize::from(output::WIDTH), 4)
            );
        }
    }
    if !r.notes.is_empty() {
        out.push_str("\nnotes\n");
        for n in &r.notes {
            let _ = writeln!(
                out,
                "{}",
                wrap(&format!("  {n}"), usize::from(output::WIDTH), 4)
            );
        }
    }
    out
}

fn validate(cat: &Catalog, specs: &[String]) -> anyhow::Result<ExitCode> {
    let v = cat.validate(specs);
    let mut ok = String::new();
    for (label, good) in &v.files {
        if *good {
            let _ = writeln!(ok, "ok: {label}");
        }
    }
    output::write_stdout(ok.as_bytes())?;
    print_diagnostics(&v.diagnostics);
    Ok(if v.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_text_drops_the_object() {
        let k = Knob::Ring {
            iface: "eth2".into(),
            field: "rx".into(),
        };
        assert_eq!(knob_text(&k), "rings rx");
        let k = Knob::Sysctl {
            name: "net.core.rmem_max".into(),
        };
        assert_eq!(knob_text(&k), "net.core.rmem_max");
    }

    #[test]
    fn notes_wrap_within_the_width() {
        let long = "eth2: channels change the queue count; rps, xps and IRQ settings are for \
                    the current queues, resolve again after applying and again and again";
        let w = wrap(long, 40, 4);
        assert!(w.lines().all(|l| l.chars().count() <= 40), "{w}");
        assert!(w.lines().skip(1).all(|l| l.starts_with("    ")));
        assert_eq!(
            w.split_whitespace().collect::<Vec<_>>(),
            long.split(' ').collect::<Vec<_>>()
        );
        assert_eq!(wrap("short", 40, 4), "short");
        assert_eq!(wrap("lo: skipped", 40, 4), "lo: skipped");
    }
}
