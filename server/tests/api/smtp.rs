//! A real SMTP server on loopback for the tests (RFC 5321, the part a submission client uses):
//! it greets, takes EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP and QUIT, over as
//! many messages per connection as the client sends, and keeps every message it accepted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A message as it arrived: envelope and parsed content.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    /// The decoded body of the part of `mime` type (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> String {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("a MIME message");
        fn find(p: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if p.ctype.mimetype == mime {
                return p.get_body().ok();
            }
            p.subparts.iter().find_map(|s| find(s, mime))
        }
        find(&parsed, mime).unwrap_or_else(|| panic!("no {mime} part in {}", self.raw))
    }

    pub fn subject(&self) -> String {
        let parsed = mailparse::parse_mail(self.raw.as_bytes()).expect("a MIME message");
        use mailparse::MailHeaderMap;
        parsed
            .headers
            .get_first_value("Subject")
            .unwrap_or_default()
    }

    /// The first link in the plain text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let text = self.part("text/plain");
        text.split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link {prefix}… in {text}"))
            .to_string()
    }
}

#[derive(Clone)]
pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT` (no TLS: a sink on loopback).
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let keep = got.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    let _ = session(stream, keep).await;
                });
            }
        });
        SmtpSink {
            url: format!("smtp://127.0.0.1:{port}"),
            got,
        }
    }

    /// Has the server `cfg` sets up send its mail here, from `Gatehouse <id@example.com>`.
    pub fn receive_from(&self, cfg: &mut gatehouse::Config) {
        cfg.smtp_url = Some(self.url.clone());
        cfg.mail_from = Some("Gatehouse <id@example.com>".into());
    }

    /// Every message so far.
    pub fn messages(&self) -> Vec<Received> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Waits (up to 10 s) until `n` messages arrived, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} message(s) expected, {} arrived", self.messages().len());
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    got: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut to = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                let addr = line
                    .split_once(':')
                    .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_string())
                    .unwrap_or_default();
                to.push(addr);
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let mut raw = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                    raw.push_str("\r\n");
                }
                if let Ok(mut g) = got.lock() {
                    g.push(Received {
                        to: std::mem::take(&mut to),
                        raw,
                    });
                }
                b"250 OK queued\r\n"
            }
            "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not here\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
