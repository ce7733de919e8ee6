//! The terminal: raw mode and the alternate screen on entry, and always restored: when the
//! guard drops (quit, signal, error) and before a panic message is printed.

use std::io::{IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// The terminal type of the screen.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// True when stdout is a terminal (the screen needs one).
pub fn is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The terminal is in screen mode (raw, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leaves the alternate screen, shows the cursor and ends raw mode. Does something only once
/// per [`Guard::enter`]: leaving the alternate screen twice would move the cursor back over
/// what was printed in between (a panic message). Errors are ignored: the terminal may be
/// gone, and there is nothing left to tell.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

static HOOK: Once = Once::new();

/// Restores the terminal before the panic message is printed, so that the message lands on
/// the normal screen instead of being wiped with the alternate one.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            prev(info);
        }));
    });
}

/// The terminal in screen mode; restores it when dropped.
pub struct Guard {
    term: Term,
}

impl Guard {
    /// Enters raw mode and the alternate screen (installing the panic hook first).
    pub fn enter() -> std::io::Result<Self> {
        install_panic_hook();
        crossterm::terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let entered = crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide
        )
        .and_then(|()| Terminal::new(CrosstermBackend::new(std::io::stdout())));
        match entered {
            Ok(term) => Ok(Self { term }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// The terminal to draw on.
    pub fn terminal(&mut self) -> &mut Term {
        &mut self.term
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
