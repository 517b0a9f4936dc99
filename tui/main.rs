//! `gatehouse-tui`: the operator console. Terminal setup and the one event loop:
//! keys, ticks and gRPC replies arrive on one channel as `Msg`s; `App::update`
//! turns each into state changes and `Cmd`s; the frame is redrawn from `App`.

mod app;
mod client;
mod dialog;
mod event;
mod event_filter;
mod follow;
mod form;
mod identity;
mod keys;
mod link;
mod listing;
mod screens;
#[cfg(test)]
mod tests;
mod view;

use app::App;
use clap::Parser;
use event::{Cmd, Msg};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Operator console for a running gatehouse server.
#[derive(Debug, Parser)]
#[command(name = "gatehouse-tui", version)]
struct Args {
    #[command(flatten)]
    global: gatehouse::config::GlobalArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let admin = match gatehouse::cli::connect(&args.global) {
        Ok(admin) => admin,
        Err(message) => {
            eprintln!("gatehouse-tui: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let app = App::new(args.global.grpc_addr.clone(), color);
    // ratatui::init installs a panic hook that restores the terminal first.
    let mut terminal = ratatui::init();
    let outcome = run(&mut terminal, app, admin).await;
    ratatui::restore();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatehouse-tui: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App,
    admin: gatehouse::cli::AdminClient,
) -> std::io::Result<()> {
    let (sender, mut receiver) = mpsc::unbounded_channel::<Msg>();
    spawn_input(sender.clone());
    spawn_ticks(sender.clone());
    for cmd in app.init() {
        client::run(&admin, cmd, sender.clone());
    }
    loop {
        terminal.draw(|frame| view::render(&app, frame))?;
        let Some(msg) = receiver.recv().await else {
            return Ok(());
        };
        for cmd in app.update(msg) {
            match cmd {
                Cmd::Quit => return Ok(()),
                Cmd::Copy(text) => copy_to_clipboard(&text),
                other => client::run(&admin, other, sender.clone()),
            }
        }
    }
}

/// Reads the terminal on a thread of its own and forwards keys (and resizes,
/// as a redraw tick).
fn spawn_input(sender: mpsc::UnboundedSender<Msg>) {
    let started = Instant::now();
    std::thread::spawn(move || loop {
        match crossterm::event::read() {
            Ok(crossterm::event::Event::Key(key))
                if key.kind != crossterm::event::KeyEventKind::Release =>
            {
                if sender.send(Msg::Key(key)).is_err() {
                    return;
                }
            }
            Ok(crossterm::event::Event::Resize(..)) => {
                let _ = sender.send(Msg::Tick(started.elapsed().as_millis() as u64));
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
}

fn spawn_ticks(sender: mpsc::UnboundedSender<Msg>) {
    let started = Instant::now();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(250));
        loop {
            interval.tick().await;
            if sender
                .send(Msg::Tick(started.elapsed().as_millis() as u64))
                .is_err()
            {
                return;
            }
        }
    });
}

fn copy_to_clipboard(text: &str) {
    use crossterm::clipboard::CopyToClipboard;
    let _ = crossterm::execute!(std::io::stdout(), CopyToClipboard::to_clipboard_from(text));
}
