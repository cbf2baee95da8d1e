//! The command line: parsing (clap), value checks and the long help.

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser};
use zmtp_std::SocketType;

/// What `--help` shows after the option list.
const DETAILS: &str = "\
OUTPUT
  One JSON object per line on stdout, each line written whole and flushed:
    {\"bound\":\"tcp://127.0.0.1:41235\"}   after each successful --bind, with the
                                        resolved endpoint (port 0 or * becomes the real port)
    {\"event\":\"CONNECTED\",\"id\":1,\"value\":7,\"endpoint\":\"tcp://127.0.0.1:5555\"}
                                        a monitor event (--monitor): libzmq's name without
                                        ZMQ_EVENT_, its id, its value (fd, errno, interval,
                                        protocol code) and its endpoint
    {\"recv\":[\"frame\",{\"hex\":\"00ff\"}]}   a received message, one entry per frame: a string
                                        when the frame is valid UTF-8, else its bytes in hex
    {\"sent\":N}                          a message was handed to the socket; N counts the
                                        messages sent so far, from 1 (--send and --echo alike)
  Event lines are printed by a monitor thread, in the order the events happened.
  The other lines wait (up to 10 ms) until the events already reported are
  printed, so HANDSHAKE_SUCCEEDED comes before the first message of a connection;
  between event lines and other lines the order is best effort. A failed bind
  prints its BIND_FAILED event even without --monitor. Errors and notes go to
  stderr. When stdout is closed the tool ends (exit status 1).

WHEN IT EXITS
  - with --recv N: once N messages were received and every --send message went out;
  - else with --echo (or with neither --send nor --recv): only at --timeout (or when killed);
  - else (--send only): once every --send message went out.
  --timeout MS ends the run after MS ms in any case. Then the socket is closed: queued
  messages are sent for up to --linger ms (default -1: until sent, but never past the
  --timeout deadline), the monitor is stopped, and with --monitor the last event line is
  MONITOR_STOPPED.

SOCKET TYPES
  A message goes out only to a peer whose handshake finished, so --send waits for one.
  REQ     each --send is a request: it waits for the reply before sending the next one.
          Without --recv, the reply to the last request is not waited for.
  REP     each --send is the reply to the next request received; with --echo (once the
          --send messages are used up) each request is answered with itself. Without
          either, REP receives one request only.
  ROUTER  --send goes to the peer of the last message received (the tool waits for a
          first message); --echo answers each message to the peer it came from. Received
          messages start with the routing id frame (usually {\"hex\":...}).
  DEALER, PAIR, PUSH, XSUB  --send messages go out in order as soon as a peer can take them.
  PUB     messages for which no subscription arrived yet are dropped (ZeroMQ's PUB
          behaviour), so PUB sends its first message 200 ms after a first peer finished
          its handshake, leaving time for the peer's subscriptions to arrive.
  XPUB    waits for a first subscription message (printed as a recv line) before sending.
  SUB     receives nothing without --subscribe; --subscribe \"\" receives everything.
  SUB, PULL cannot send; PUB, PUSH cannot receive (--send/--recv/--echo are refused).
  For REQ and REP a queued --send message takes the turn before --echo.
  Write --send=TEXT (with '=') for a text that starts with '-'.

SECURITY
  --plain-server makes the socket a PLAIN server: every client is checked by a ZAP handler
  (RFC 27). --zap-allow USER:PASS (repeatable) runs one inside the tool that accepts exactly
  those credentials (the User-Id is USER) and answers 400 to every other request, NULL
  ones included: a NULL socket with --zap-domain and --zap-allow accepts no peer. Without
  --zap-allow nothing answers, and every PLAIN client fails (HANDSHAKE_FAILED_NO_DETAIL,
  EFAULT, as libzmq). --plain-username/--plain-password make a PLAIN client. A rejected
  handshake shows as a HANDSHAKE_FAILED_AUTH (400) or HANDSHAKE_FAILED_PROTOCOL event line
  with --monitor; the client does not retry after a 400, and the run ends at --timeout
  (exit status 1 if --recv or --send were not done).
  --curve-server --curve-secretkey Z85 makes a CURVE server; --curve-serverkey Z85 with
  --curve-publickey Z85 and --curve-secretkey Z85 a CURVE client. Keys are 40 Z85
  characters (as zmq_curve_keypair prints them). --zap-allow-key Z85 (repeatable) runs the
  built-in handler accepting CURVE clients with those public keys (the User-Id is the key
  in Z85), 400 to everything else; it combines with --zap-allow for PLAIN. A CURVE server
  without a handler accepts every client that knows its public key (libzmq's Stonehouse).

KEY PAIRS
  zmtp keygen prints a fresh CURVE key pair (as libzmq's curve_keygen and
  zmq_curve_keypair make it, from the system's random source) as one JSON line,
  {\"public\":\"<40 Z85 characters>\",\"secret\":\"<40 Z85 characters>\"}, and exits 0;
  it takes no options (zmtp keygen --help describes it).

EXIT STATUS
  0  success (including --timeout when nothing was left to do)
  1  runtime failure: a failed bind (after its BIND_FAILED event), a failed send or
     receive, or --timeout before the --recv count was reached or every --send went out
  2  usage error: unknown type, bad option value, option not valid for the type, or an
     invalid endpoint

EXAMPLES
  zmtp rep --bind tcp://127.0.0.1:5555 --echo
  zmtp req --connect tcp://127.0.0.1:5555 --send hello --recv 1 --timeout 5000
  zmtp sub --connect tcp://127.0.0.1:5556 --subscribe \"\" --recv 3 --monitor
  zmtp push --connect ipc:///tmp/sink --send job1 --send job2
  zmtp rep --bind tcp://127.0.0.1:5555 --echo --plain-server --zap-allow admin:secret
  zmtp req --connect tcp://127.0.0.1:5555 --plain-username admin --plain-password secret \\
      --send hello --recv 1 --timeout 5000
  zmtp router --bind tcp://127.0.0.1:5557 --echo --curve-server --curve-secretkey SERVER_SECRET \\
      --zap-allow-key CLIENT_PUBLIC
  zmtp dealer --connect tcp://127.0.0.1:5557 --curve-serverkey SERVER_PUBLIC \\
      --curve-publickey CLIENT_PUBLIC --curve-secretkey CLIENT_SECRET --send hi --recv 1";

/// A scriptable ZeroMQ peer (ZMTP 3.x, NULL, PLAIN or CURVE security) for testing boards and
/// services from a terminal, speaking JSON lines.
#[derive(Debug, Parser)]
#[command(
    name = "zmtp",
    version,
    override_usage = "zmtp <TYPE> [OPTIONS]\n       zmtp keygen",
    about = "A scriptable ZeroMQ peer: one socket, JSON lines on stdout",
    after_long_help = DETAILS,
    after_help = "See --help for the output format, exit codes and per-type behaviour."
)]
pub(crate) struct Cli {
    /// Socket type: pair dealer router req rep pub sub xpub xsub push pull (any case); `zmtp keygen` prints a CURVE key pair instead (see KEY PAIRS)
    #[arg(value_name = "TYPE", value_parser = parse_type)]
    pub(crate) socket_type: SocketType,

    // The help text is not a doc comment: rustdoc would read `<resolved
    // endpoint>` as an HTML tag.
    #[arg(
        long,
        value_name = "EP",
        help = "Bind to EP (tcp://host:port, ipc://path); repeatable. \
                Prints {\"bound\":\"<resolved endpoint>\"} once bound"
    )]
    pub(crate) bind: Vec<String>,

    /// Connect to EP (tcp://host:port, ipc://path); repeatable
    #[arg(long, value_name = "EP")]
    pub(crate) connect: Vec<String>,

    /// Print every monitor event of this socket (v1 semantics, all events)
    #[arg(long)]
    pub(crate) monitor: bool,

    /// Queue a single-frame message to send; repeatable, sent in order
    #[arg(long, value_name = "TEXT")]
    pub(crate) send: Vec<String>,

    /// Send every received message back (for ROUTER: to the peer it came from)
    #[arg(long)]
    pub(crate) echo: bool,

    /// Exit after receiving N messages (N >= 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) recv: Option<u64>,

    /// Exit after MS milliseconds at most (default: no limit)
    #[arg(long, value_name = "MS")]
    pub(crate) timeout: Option<u64>,

    /// SUB/XSUB subscription; repeatable ("" subscribes to all)
    #[arg(long, value_name = "PREFIX")]
    pub(crate) subscribe: Vec<String>,

    /// ZMQ_ROUTING_ID: the identity announced to peers (1 to 255 bytes)
    #[arg(long, value_name = "ID", value_parser = parse_routing_id)]
    pub(crate) routing_id: Option<String>,

    /// ZMQ_METADATA: an application property sent to peers in every handshake, X-KEY:VALUE (the name starts with X-, the value is not empty); repeatable
    #[arg(long, value_name = "X-KEY:VALUE")]
    pub(crate) metadata: Vec<String>,

    /// ZMQ_LINGER: how long closing keeps sending queued messages (-1: until sent; default -1, capped by --timeout)
    #[arg(long, value_name = "MS", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-1..))]
    pub(crate) linger: Option<i32>,

    /// ZMQ_SNDHWM: messages queued per peer for sending (0: no limit; default 1000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) sndhwm: Option<i32>,

    /// ZMQ_RCVHWM: messages queued per peer after receiving (0: no limit; default 1000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) rcvhwm: Option<i32>,

    /// ZMQ_MAXMSGSIZE: a larger incoming frame closes the connection (-1: no limit, the default)
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true)]
    pub(crate) maxmsgsize: Option<i64>,

    /// ZMQ_RECONNECT_IVL: wait before reconnecting (-1 or 0: no reconnect; default 100)
    #[arg(long, value_name = "MS", allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-1..))]
    pub(crate) reconnect_ivl: Option<i32>,

    /// ZMQ_RECONNECT_IVL_MAX: reconnect back-off limit (0: no back-off, the default)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) reconnect_ivl_max: Option<i32>,

    /// ZMQ_HANDSHAKE_IVL: the handshake must finish within MS (0: no limit; default 30000)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) handshake_ivl: Option<i32>,

    /// ZMQ_HEARTBEAT_IVL: send a PING every MS (0: off, the default)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) heartbeat_ivl: Option<i32>,

    /// ZMQ_HEARTBEAT_TIMEOUT: disconnect when nothing arrives MS after a PING (default: the interval)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) heartbeat_timeout: Option<i32>,

    /// ZMQ_HEARTBEAT_TTL: time to live announced in our PINGs (0 to 6553599)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(i32).range(0..=6_553_599))]
    pub(crate) heartbeat_ttl: Option<i32>,

    /// ZMQ_PLAIN_SERVER: authenticate clients with PLAIN (checked by --zap-allow)
    #[arg(long, conflicts_with_all = ["plain_username", "plain_password"])]
    pub(crate) plain_server: bool,

    /// ZMQ_PLAIN_USERNAME: be a PLAIN client with this username (1 to 255 bytes)
    #[arg(long, value_name = "U", value_parser = parse_credential, allow_hyphen_values = true)]
    pub(crate) plain_username: Option<String>,

    /// ZMQ_PLAIN_PASSWORD: be a PLAIN client with this password (1 to 255 bytes)
    #[arg(long, value_name = "P", value_parser = parse_credential, allow_hyphen_values = true)]
    pub(crate) plain_password: Option<String>,

    /// ZMQ_ZAP_DOMAIN: the domain of ZAP requests; with NULL security, authenticate every peer (0 to 255 bytes)
    #[arg(long, value_name = "D", value_parser = parse_domain)]
    pub(crate) zap_domain: Option<String>,

    /// Run a ZAP handler accepting PLAIN clients with these credentials only (repeatable); everything else gets 400
    #[arg(long, value_name = "USER:PASS", value_parser = parse_user_pass, allow_hyphen_values = true)]
    pub(crate) zap_allow: Vec<(String, String)>,

    /// ZMQ_CURVE_SERVER: be a CURVE server with --curve-secretkey (clients checked by --zap-allow-key; all accepted without a handler)
    #[cfg(feature = "curve")]
    #[arg(long, requires = "curve_secretkey",
          conflicts_with_all = ["plain_server", "plain_username", "plain_password", "curve_serverkey"])]
    pub(crate) curve_server: bool,

    /// ZMQ_CURVE_PUBLICKEY: our long-term public key (40 Z85 characters)
    #[cfg(feature = "curve")]
    #[arg(long, value_name = "Z85", value_parser = parse_key, allow_hyphen_values = true)]
    pub(crate) curve_publickey: Option<[u8; 32]>,

    /// ZMQ_CURVE_SECRETKEY: our long-term secret key (40 Z85 characters)
    #[cfg(feature = "curve")]
    #[arg(long, value_name = "Z85", value_parser = parse_key, allow_hyphen_values = true)]
    pub(crate) curve_secretkey: Option<[u8; 32]>,

    /// ZMQ_CURVE_SERVERKEY: be a CURVE client of the server with this public key (40 Z85 characters; needs --curve-publickey and --curve-secretkey)
    #[cfg(feature = "curve")]
    #[arg(long, value_name = "Z85", value_parser = parse_key, allow_hyphen_values = true,
          requires_all = ["curve_publickey", "curve_secretkey"],
          conflicts_with_all = ["plain_server", "plain_username", "plain_password"])]
    pub(crate) curve_serverkey: Option<[u8; 32]>,

    /// Run a ZAP handler accepting CURVE clients with these public keys only (repeatable, Z85); everything else gets 400
    #[cfg(feature = "curve")]
    #[arg(long, value_name = "Z85", value_parser = parse_key, allow_hyphen_values = true)]
    pub(crate) zap_allow_key: Vec<[u8; 32]>,
}

#[cfg(feature = "curve")]
fn parse_key(s: &str) -> Result<[u8; 32], String> {
    zmtp_core::z85::decode_key(s.as_bytes())
        .map_err(|_| "expected a CURVE key: 40 Z85 characters".to_owned())
}

fn parse_type(s: &str) -> Result<SocketType, String> {
    SocketType::from_name_ignore_case(s).ok_or_else(|| {
        "unknown socket type; expected one of pair, dealer, router, req, rep, pub, sub, \
         xpub, xsub, push, pull"
            .to_owned()
    })
}

fn parse_credential(s: &str) -> Result<String, String> {
    if (1..=255).contains(&s.len()) {
        Ok(s.to_owned())
    } else {
        Err("a PLAIN username or password has 1 to 255 bytes".to_owned())
    }
}

fn parse_domain(s: &str) -> Result<String, String> {
    if s.len() <= 255 {
        Ok(s.to_owned())
    } else {
        Err("a ZAP domain has at most 255 bytes".to_owned())
    }
}

/// `USER:PASS`, split at the first `:` (a username cannot contain one;
/// the password may).
fn parse_user_pass(s: &str) -> Result<(String, String), String> {
    let (user, pass) = s
        .split_once(':')
        .ok_or_else(|| "expected USER:PASS".to_owned())?;
    if user.len() > 255 || pass.len() > 255 {
        return Err("a PLAIN username or password has at most 255 bytes".to_owned());
    }
    Ok((user.to_owned(), pass.to_owned()))
}

fn parse_routing_id(s: &str) -> Result<String, String> {
    if (1..=255).contains(&s.len()) {
        Ok(s.to_owned())
    } else {
        Err("a routing id has 1 to 255 bytes".to_owned())
    }
}

/// `zmtp keygen`: a fresh CURVE key pair as one JSON line.
#[cfg(feature = "curve")]
#[derive(Debug, Parser)]
#[command(
    name = "zmtp keygen",
    version,
    override_usage = "zmtp keygen",
    about = "Print a fresh CURVE key pair as one JSON line: \
             {\"public\":\"<40 Z85 characters>\",\"secret\":\"<40 Z85 characters>\"}",
    long_about = "Print a fresh CURVE key pair as one JSON line: \
                  {\"public\":\"<40 Z85 characters>\",\"secret\":\"<40 Z85 characters>\"}. \
                  The keys come from the system's random source, as libzmq's curve_keygen \
                  makes them; give them to --curve-publickey/--curve-secretkey, the public \
                  one to a client's --curve-serverkey or a server's --zap-allow-key. Exit \
                  status 0, or 2 for any argument."
)]
pub(crate) struct Keygen {}

/// What the command line asks for.
pub(crate) enum Invocation {
    /// Run a socket.
    Socket(Box<Cli>),
    /// `zmtp keygen`.
    #[cfg(feature = "curve")]
    Keygen,
}

/// Parses the command line; exits with status 2 on a usage error (0 for
/// `--help` and `--version`).
pub(crate) fn invocation() -> Invocation {
    #[cfg(feature = "curve")]
    if std::env::args_os().nth(1).is_some_and(|a| a == "keygen") {
        let _ = Keygen::parse_from(std::env::args_os().skip(1));
        return Invocation::Keygen;
    }
    Invocation::Socket(Box::new(Cli::get()))
}

/// Whether sockets of type `t` can send messages.
pub(crate) fn can_send(t: SocketType) -> bool {
    !matches!(t, SocketType::Sub | SocketType::Pull)
}

/// Whether sockets of type `t` can receive messages.
pub(crate) fn can_recv(t: SocketType) -> bool {
    !matches!(t, SocketType::Pub | SocketType::Push)
}

/// Stops with a usage error (clap's format, exit status 2).
pub(crate) fn usage_error(kind: ErrorKind, msg: impl core::fmt::Display) -> ! {
    Cli::command().error(kind, msg).exit()
}

impl Cli {
    /// Parses the command line; exits with status 2 on a usage error (0
    /// for `--help` and `--version`).
    fn get() -> Self {
        let cli = Self::parse();
        cli.check();
        cli
    }

    /// The checks clap cannot express: options that do not fit the type.
    fn check(&self) {
        let t = self.socket_type;
        let name = t.as_str();
        if self.bind.is_empty() && self.connect.is_empty() {
            usage_error(
                ErrorKind::MissingRequiredArgument,
                "nothing to talk to: give at least one --bind or --connect",
            );
        }
        if !self.send.is_empty() && !can_send(t) {
            usage_error(
                ErrorKind::ArgumentConflict,
                format_args!("{name} sockets cannot send: --send is not valid for {name}"),
            );
        }
        if self.echo && !(can_send(t) && can_recv(t)) {
            usage_error(
                ErrorKind::ArgumentConflict,
                format_args!("--echo needs a socket type that can send and receive, not {name}"),
            );
        }
        if self.recv.is_some() && !can_recv(t) {
            usage_error(
                ErrorKind::ArgumentConflict,
                format_args!("{name} sockets cannot receive: --recv is not valid for {name}"),
            );
        }
        if !self.subscribe.is_empty() && !matches!(t, SocketType::Sub | SocketType::XSub) {
            usage_error(
                ErrorKind::ArgumentConflict,
                format_args!("--subscribe is only valid for SUB and XSUB, not {name}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(core::iter::once("zmtp").chain(args.iter().copied()))
    }

    #[test]
    fn types_any_case() {
        for (s, t) in [
            ("pair", SocketType::Pair),
            ("DEALER", SocketType::Dealer),
            ("Router", SocketType::Router),
            ("xPub", SocketType::XPub),
        ] {
            let cli = parse(&[s, "--bind", "tcp://*:0"]).unwrap();
            assert_eq!(cli.socket_type, t);
        }
        assert_eq!(
            parse(&["stream"]).unwrap_err().kind(),
            ErrorKind::ValueValidation
        );
    }

    #[test]
    fn values() {
        let cli = parse(&[
            "sub",
            "--connect",
            "tcp://127.0.0.1:1",
            "--subscribe",
            "",
            "--subscribe=-a",
            "--linger",
            "-1",
            "--maxmsgsize",
            "-1",
            "--recv",
            "3",
            "--heartbeat-ttl",
            "6553599",
        ])
        .unwrap();
        assert_eq!(cli.subscribe, ["", "-a"]);
        assert_eq!(cli.linger, Some(-1));
        assert_eq!(cli.maxmsgsize, Some(-1));
        assert_eq!(cli.recv, Some(3));
        for bad in [
            &["req", "--recv", "0"][..],
            &["req", "--timeout", "-5"],
            &["req", "--timeout", "soon"],
            &["req", "--linger", "-2"],
            &["req", "--heartbeat-ttl", "6553600"],
            &["req", "--routing-id", ""],
            &["req", "--sndhwm", "x"],
            &["req", "--frobnicate"],
            &["req", "--plain-username", ""],
            &["req", "--zap-allow", "nocolon"],
            &["rep", "--plain-server", "--plain-password", "p"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Z85 keys may start with `-` (and passwords may): such a value is a
    /// value, not an option.
    #[test]
    #[cfg(feature = "curve")]
    fn values_starting_with_a_hyphen() {
        let key = "-01Yk2m7Ry3K^EO4?Gr=6bhe%7z[2d8YP>ta0qZJ";
        assert_eq!(key.len(), 40);
        let cli = parse(&[
            "dealer",
            "--connect",
            "tcp://127.0.0.1:1",
            "--curve-serverkey",
            key,
            "--curve-publickey",
            key,
            "--curve-secretkey",
            key,
        ])
        .unwrap();
        assert_eq!(cli.curve_serverkey, Some(parse_key(key).unwrap()));
        let cli = parse(&["rep", "--bind", "tcp://*:0", "--zap-allow-key", key]).unwrap();
        assert_eq!(cli.zap_allow_key, [parse_key(key).unwrap()]);
        let cli = parse(&[
            "req",
            "--connect",
            "tcp://127.0.0.1:1",
            "--plain-username",
            "-u",
            "--plain-password",
            "-p",
        ])
        .unwrap();
        assert_eq!(cli.plain_password.as_deref(), Some("-p"));
    }

    #[test]
    fn security_values() {
        let cli = parse(&[
            "rep",
            "--bind",
            "tcp://*:0",
            "--plain-server",
            "--zap-domain",
            "",
            "--zap-allow",
            "admin:se:cret",
            "--zap-allow",
            "guest:",
        ])
        .unwrap();
        assert!(cli.plain_server);
        assert_eq!(cli.zap_domain.as_deref(), Some(""));
        assert_eq!(
            cli.zap_allow,
            [
                ("admin".to_owned(), "se:cret".to_owned()),
                ("guest".to_owned(), String::new())
            ]
        );
        let cli = parse(&[
            "req",
            "--connect",
            "tcp://127.0.0.1:1",
            "--plain-username",
            "u",
            "--plain-password",
            "p",
        ])
        .unwrap();
        assert_eq!(cli.plain_username.as_deref(), Some("u"));
        assert_eq!(cli.plain_password.as_deref(), Some("p"));
        let long = "x".repeat(256);
        for bad in [
            &["req", "--plain-password", long.as_str()][..],
            &["req", "--zap-domain", long.as_str()],
            &["rep", "--zap-allow", &format!("{long}:p")],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn help_mentions_every_option() {
        let help = Cli::command().render_long_help().to_string();
        for opt in [
            "--bind",
            "--connect",
            "--monitor",
            "--send",
            "--echo",
            "--recv",
            "--timeout",
            "--subscribe",
            "--routing-id",
            "--linger",
            "--sndhwm",
            "--rcvhwm",
            "--maxmsgsize",
            "--reconnect-ivl",
            "--reconnect-ivl-max",
            "--handshake-ivl",
            "--heartbeat-ivl",
            "--heartbeat-timeout",
            "--heartbeat-ttl",
            "--plain-server",
            "--plain-username",
            "--plain-password",
            "--zap-domain",
            "--zap-allow",
            "SECURITY",
            "MONITOR_STOPPED",
            "EXIT STATUS",
        ] {
            assert!(help.contains(opt), "{opt}");
        }
    }
}
