//! The event topics ACA-Py sends to its admin event stream (`GET /ws`, and
//! `--webhook-url`), per version line: what sends each one, which payload
//! fields identify the thing it is about, the flag it needs and the states a
//! record topic passes through. Read from the ACA-Py sources of 0.12.8,
//! 1.0.1, 1.1.1, 1.2.7, 1.3.6, 1.4.0, 1.5.1, 1.6.2 and 1.7.0; a plugin
//! (`--plugin`) can send topics of its own, which this table cannot know.
//!
//! How a topic reaches the stream, in every line: the admin server listens
//! on the event bus for `acapy::record::TOPIC[::STATE]` (a stored record that
//! was created, changed state or was deleted), for `acapy::webhook::TOPIC`,
//! and for a fixed map of other events (`acapy::basicmessage::received` →
//! `basicmessages`, ...). Every other bus event (ledger, anoncreds, DID
//! registration, multitenant, outbound status) stays inside the agent.

use crate::suggest;

/// A version line: major and minor, `(1, 3)` for every 1.3.x release.
pub type Line = (u64, u64);

/// The lines the table was read from, oldest first.
pub const LINES: &[Line] = &[
    (0, 12),
    (1, 0),
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
];

/// Where a topic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A stored record: one event when it is created, one per change of
    /// `state`, and `deleted` when it is removed. Other updates send
    /// nothing, unless the code asks for an event (the format detail
    /// records do when the credential is stored).
    Record,
    /// Something received or done, sent once (no stored record behind it).
    Message,
    /// Made by the websocket itself; never posted to `--webhook-url`.
    Socket,
}

/// One topic of the admin event stream.
#[derive(Debug)]
pub struct Topic {
    pub name: &'static str,
    /// The first line that sends it.
    pub first: Line,
    /// The last line that sends it; `None` while it is still sent.
    pub last: Option<Line>,
    pub source: Source,
    /// The protocol, record or admin call behind it.
    pub emitter: &'static str,
    /// Payload fields that tell one exchange (or connection) from another,
    /// for a wait's `where`.
    pub ids: &'static [&'static str],
    /// The values `$.state` takes; empty when the payload has no `state`.
    pub states: &'static [&'static str],
    /// The start flag without which the topic is never sent.
    pub flag: Option<&'static str>,
    pub note: &'static str,
}

impl Topic {
    /// Whether the `major.minor` line sends this topic. A line newer than
    /// the table counts as sending every topic still sent by the newest one.
    pub fn emitted_by(&self, major: u64, minor: u64) -> bool {
        let line = (major, minor);
        self.first <= line && self.last.is_none_or(|last| line <= last)
    }
}

const RECORD: Source = Source::Record;
const MESSAGE: Source = Source::Message;
const SOCKET: Source = Source::Socket;
const FIRST: Line = (0, 12);

/// Every topic ACA-Py's own code sends to the stream.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "connections",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "connection record (DID Exchange, RFC 0160 connections up to 1.2, \
                  create-static, DELETE /connections/{id}, did-rotate hangup)",
        ids: &["connection_id", "invitation_msg_id", "their_did", "alias"],
        states: &[
            "init",
            "invitation",
            "request",
            "response",
            "active",
            "error",
            "deleted",
        ],
        flag: None,
        note: "`state` holds the RFC 0160 names: an abandoned connection is `error`, never \
               `abandoned`; `rfc23_state` holds the DID Exchange ones (`request-sent`, \
               `completed`, `abandoned`, ...). A DID rotation updates the record silently.",
    },
    Topic {
        name: "out_of_band",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "out-of-band record (create-invitation, receive-invitation, handshake reuse)",
        ids: &["oob_id", "invi_msg_id", "connection_id"],
        states: &[
            "initial",
            "prepare-response",
            "await-response",
            "reuse-not-accepted",
            "reuse-accepted",
            "done",
            "deleted",
        ],
        flag: None,
        note: "The inviter's record is first seen at `await-response`, the invitee's at \
               `initial`; a single-use record goes `done` then `deleted`.",
    },
    Topic {
        name: "connection_reuse",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "out-of-band handshake-reuse received (inviter side)",
        ids: &["connection_id", "thread_id"],
        states: &[],
        flag: None,
        note: "The invitee's existing connection is reused instead of a new one.",
    },
    Topic {
        name: "connection_reuse_accepted",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "out-of-band handshake-reuse-accepted received, or not (invitee side)",
        ids: &["connection_id", "thread_id"],
        states: &["accepted", "rejected"],
        flag: None,
        note: "`rejected` when the answer could not be processed or never came.",
    },
    Topic {
        name: "basicmessages",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "basic message received",
        ids: &["connection_id", "message_id"],
        states: &["received"],
        flag: None,
        note: "Only the receiver hears of it; sending one sends no event.",
    },
    Topic {
        name: "ping",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "trust ping received, or its response received",
        ids: &["thread_id"],
        states: &["received", "response_received"],
        flag: Some("--monitor-ping"),
        note: "`connection_id` is always null. Sending a ping sends nothing. The socket also \
               sends a keepalive `ping` with no `payload` after 5 s of quiet, flag or not.",
    },
    Topic {
        name: "problem_report",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "generic problem report (notification/1.0/problem-report) received",
        ids: &["~thread.thid", "@id"],
        states: &[],
        flag: None,
        note: "The payload is the message itself. A protocol's own problem report shows as \
               that exchange's `abandoned` state instead.",
    },
    Topic {
        name: "actionmenu",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "action menu received, or closed with POST /action-menu/{id}/close",
        ids: &["connection_id"],
        states: &[],
        flag: None,
        note: "`menu` is the menu received, or null after close.",
    },
    Topic {
        name: "get-active-menu",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "action menu request received (the peer called /action-menu/{id}/request)",
        ids: &["connection_id", "thread_id"],
        states: &[],
        flag: None,
        note: "The controller is expected to answer with send-menu.",
    },
    Topic {
        name: "perform-menu-action",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "action menu perform received (the peer called /action-menu/{id}/perform)",
        ids: &["connection_id", "thread_id", "action_name"],
        states: &[],
        flag: None,
        note: "`action_params` holds the peer's parameters.",
    },
    Topic {
        name: "discover_feature",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "discover-features 1.0 exchange record",
        ids: &["discovery_exchange_id", "connection_id", "thread_id"],
        states: &["query-sent", "disclose-received", "deleted"],
        flag: None,
        note: "A disclose that overtakes the query's own save leaves the stored record at \
               `query-sent` (with `disclose` set): wait on the event, not the record's state.",
    },
    Topic {
        name: "discover_feature_v2_0",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "discover-features 2.0 exchange record",
        ids: &["discovery_exchange_id", "connection_id"],
        states: &[],
        flag: None,
        note: "The record has no state: one event when it is created (the first query on a \
               connection), none when disclosures arrive or the query is repeated.",
    },
    Topic {
        name: "issue_credential",
        first: FIRST,
        last: Some((1, 4)),
        source: RECORD,
        emitter: "issue-credential 1.0 exchange record",
        ids: &["credential_exchange_id", "connection_id", "thread_id"],
        states: &[
            "proposal_sent",
            "proposal_received",
            "offer_sent",
            "offer_received",
            "request_sent",
            "request_received",
            "credential_issued",
            "credential_received",
            "credential_acked",
            "credential_revoked",
            "abandoned",
            "deleted",
        ],
        flag: None,
        note: "The protocol was removed in 1.5. Offers, requests and credentials are left \
               out of the payload unless --debug-webhooks.",
    },
    Topic {
        name: "issue_credential_v2_0",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "issue-credential 2.0 exchange record",
        ids: &["cred_ex_id", "connection_id", "thread_id"],
        states: &[
            "proposal-sent",
            "proposal-received",
            "offer-sent",
            "offer-received",
            "request-sent",
            "request-received",
            "credential-issued",
            "credential-received",
            "done",
            "credential-revoked",
            "abandoned",
            "deleted",
        ],
        flag: None,
        note: "A short payload unless --debug-webhooks; `by_format` is in it up to 1.2 only. \
               `credential-revoked` (the issuer's kept record, when a revocation is \
               published) is reached up to 1.4 only.",
    },
    Topic {
        name: "issue_credential_v2_0_indy",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "issue-credential 2.0 detail record of the indy and vc_di formats (and of \
                  the anoncreds format before 1.1)",
        ids: &["cred_ex_indy_id", "cred_ex_id", "rev_reg_id", "cred_rev_id"],
        states: &[],
        flag: None,
        note: "No state. The holder hears of it when it sends the request and again when it \
               stores the credential; the issuer when it issues.",
    },
    Topic {
        name: "issue_credential_v2_0_ld_proof",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "issue-credential 2.0 ld_proof format detail record",
        ids: &["cred_ex_ld_proof_id", "cred_ex_id", "cred_id_stored"],
        states: &[],
        flag: None,
        note: "No state: one event, on the holder when it stores the credential \
               (`cred_id_stored` is the W3C credential's id); none on the issuer.",
    },
    Topic {
        name: "issue_credential_v2_0_anoncreds",
        first: (1, 1),
        last: None,
        source: RECORD,
        emitter: "issue-credential 2.0 anoncreds format detail record",
        ids: &[
            "cred_ex_anoncreds_id",
            "cred_ex_id",
            "rev_reg_id",
            "cred_rev_id",
        ],
        states: &[],
        flag: None,
        note: "No state; sent at the same points as `issue_credential_v2_0_indy`. Before 1.1 \
               the anoncreds format used the indy record and topic.",
    },
    Topic {
        name: "present_proof",
        first: FIRST,
        last: Some((1, 4)),
        source: RECORD,
        emitter: "present-proof 1.0 exchange record",
        ids: &["presentation_exchange_id", "connection_id", "thread_id"],
        states: &[
            "proposal_sent",
            "proposal_received",
            "request_sent",
            "request_received",
            "presentation_sent",
            "presentation_received",
            "verified",
            "presentation_acked",
            "abandoned",
            "deleted",
        ],
        flag: None,
        note: "The protocol was removed in 1.5. `verified` is the string \"true\" or \"false\".",
    },
    Topic {
        name: "present_proof_v2_0",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "present-proof 2.0 exchange record",
        ids: &["pres_ex_id", "connection_id", "thread_id"],
        states: &[
            "proposal-sent",
            "proposal-received",
            "request-sent",
            "request-received",
            "presentation-sent",
            "presentation-received",
            "done",
            "abandoned",
            "deleted",
        ],
        flag: None,
        note: "A short payload unless --debug-webhooks (`by_format` up to 1.2 only); \
               `verified` is the string \"true\" or \"false\".",
    },
    Topic {
        name: "mediation",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "coordinate-mediation record (both mediator and client)",
        ids: &["mediation_id", "connection_id"],
        states: &["request", "granted", "denied", "deleted"],
        flag: None,
        note: "`role` tells the mediator's record from the client's.",
    },
    Topic {
        name: "keylist",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "keylist-update response received (mediation client)",
        ids: &["connection_id", "thread_id"],
        states: &[],
        flag: None,
        note: "`updated` lists the keys added or removed at the mediator.",
    },
    Topic {
        name: "forward",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "forward message received (mediator)",
        ids: &["connection_id", "recipient_key"],
        states: &[],
        flag: Some("--monitor-forward"),
        note: "`status` says how it was passed on (`sent_to_session`, `queued_for_delivery`, \
               `waiting_for_pickup`, ...).",
    },
    Topic {
        name: "endorse_transaction",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "endorse-transaction record (author and endorser)",
        ids: &["transaction_id", "connection_id", "thread_id"],
        states: &[
            "init",
            "transaction_created",
            "request_sent",
            "request_received",
            "transaction_endorsed",
            "transaction_refused",
            "transaction_resent",
            "transaction_resent_received",
            "transaction_cancelled",
            "transaction_acked",
            "deleted",
        ],
        flag: None,
        note: "Needs a ledger and an endorser connection.",
    },
    Topic {
        name: "revocation_registry",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "issuer revocation registry record (indy wallets)",
        ids: &["record_id", "revoc_reg_id", "cred_def_id"],
        states: &[
            "init",
            "generated",
            "posted",
            "active",
            "full",
            "decommissioned",
            "deleted",
        ],
        flag: None,
        note: "Not sent by anoncreds wallets (askar-anoncreds), whose registries live \
               elsewhere and send nothing to the stream.",
    },
    Topic {
        name: "issuer_cred_rev",
        first: FIRST,
        last: None,
        source: RECORD,
        emitter: "issuer credential revocation record (one per revocable credential issued)",
        ids: &["record_id", "cred_ex_id", "rev_reg_id", "cred_rev_id"],
        states: &["issued", "revoked", "deleted"],
        flag: None,
        note: "`revoked` comes when the revocation is published; from 1.5 the only event \
               that says a credential was revoked.",
    },
    Topic {
        name: "revocation-notification",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "revocation notification 1.0 received (holder)",
        ids: &["thread_id"],
        states: &[],
        flag: Some("--monitor-revocation-notification"),
        note: "`thread_id` is the issue-credential thread of the revoked credential.",
    },
    Topic {
        name: "revocation-notification-v2",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "revocation notification 2.0 received (holder)",
        ids: &["credential_id", "revocation_format"],
        states: &[],
        flag: Some("--monitor-revocation-notification"),
        note: "`credential_id` is `REV_REG_ID::CRED_REV_ID` for the indy format.",
    },
    Topic {
        name: "credential",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "DELETE /credential/{credential_id}",
        ids: &["id"],
        states: &["deleted"],
        flag: None,
        note: "Storing a credential sends nothing under this topic.",
    },
    Topic {
        name: "w3c_credential",
        first: FIRST,
        last: None,
        source: MESSAGE,
        emitter: "DELETE /credential/w3c/{credential_id}",
        ids: &["id"],
        states: &["deleted"],
        flag: None,
        note: "Storing a credential sends nothing under this topic.",
    },
    Topic {
        name: "settings",
        first: FIRST,
        last: None,
        source: SOCKET,
        emitter: "the websocket, once, as its first message",
        ids: &[],
        states: &[],
        flag: None,
        note: "`authenticated`, `label`, `endpoint`: whether the API key was taken and who \
               the agent is.",
    },
];

/// Topics ACA-Py's code names but never sends, with what to wait on instead.
pub const NEVER_SENT: &[(&str, &str)] = &[(
    "oob_invitation",
    "the invitation record is built for the answer to create-invitation and never saved, \
     so no line sends it; wait on `out_of_band` (state `await-response`) instead",
)];

/// Names authors reach for that edit distance cannot lead back to the topic.
const ALIASES: &[(&str, &str)] = &[
    ("trust_ping", "ping"),
    ("trustping", "ping"),
    ("oob", "out_of_band"),
    ("didexchange", "connections"),
    ("did_exchange", "connections"),
    ("basic_message", "basicmessages"),
];

/// Something that sends no event at all in any line: wait by polling.
#[derive(Debug)]
pub struct Silent {
    /// Topic names an author might try for it (compared without case, `-`
    /// and `_` alike).
    pub words: &'static [&'static str],
    pub what: &'static str,
    /// What to poll instead.
    pub poll: &'static str,
}

/// The protocols and admin operations that send nothing to the stream.
pub const SILENT: &[Silent] = &[
    Silent {
        words: &["did_rotate", "rotate", "did_rotate_v1_0"],
        what: "DID rotation (did-rotate 1.0) sends no event on either side: the connection is \
               saved without one and the rotate record has no topic",
        poll: "GET /connections/{conn_id} until `$.my_did` (rotating side) or `$.their_did` \
               (other side) is the new DID; a hangup does send `connections` `deleted`",
    },
    Silent {
        words: &["schema", "schemas", "anoncreds", "anoncreds_schema"],
        what: "schema writes (indy or anoncreds) stay on the internal event bus",
        poll: "GET /schemas/created or GET /anoncreds/schemas",
    },
    Silent {
        words: &[
            "cred_def",
            "credential_definition",
            "credential_definitions",
            "anoncreds_credential_definition",
        ],
        what: "credential definition writes stay on the internal event bus",
        poll: "GET /credential-definitions/created or GET /anoncreds/credential-definitions",
    },
    Silent {
        words: &[
            "revocation_list",
            "rev_list",
            "rev_reg_def",
            "revocation_registry_definition",
            "anoncreds_revocation",
        ],
        what: "anoncreds revocation registries and lists stay on the internal event bus",
        poll: "GET /anoncreds/revocation/active-registry/{cred_def_id} (until status 200)",
    },
    Silent {
        words: &["wallet", "did", "wallet_did", "public_did"],
        what: "wallet DID operations (create, set public) answer at once and send nothing \
               (with an endorser, setting a public DID goes through `endorse_transaction`)",
        poll: "GET /wallet/did or GET /wallet/did/public",
    },
    Silent {
        words: &["multitenancy", "wallet_created", "subwallet"],
        what: "creating a sub-wallet sends nothing to the stream (1.4+ puts it on the \
               internal bus only)",
        poll: "GET /multitenancy/wallets",
    },
    Silent {
        words: &["introduction"],
        what: "the introduction protocol sends no event of its own",
        poll: "the resulting `connections` events, or GET /connections",
    },
];

/// The topic of that name, in whichever lines send it.
pub fn lookup(topic: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.name == topic)
}

/// Whether the topic is sent: by the given line, or by any line when `None`.
pub fn known(topic: &str, line: Option<Line>) -> bool {
    lookup(topic).is_some_and(|t| line.is_none_or(|(major, minor)| t.emitted_by(major, minor)))
}

/// Whether the table was read from this line's sources. For any other line,
/// an unknown topic deserves a warning rather than an error.
pub fn covered(line: Line) -> bool {
    LINES.contains(&line)
}

/// The topics the line sends (every topic when `None`), in table order.
pub fn names(line: Option<Line>) -> impl Iterator<Item = &'static str> {
    TOPICS
        .iter()
        .filter(move |t| line.is_none_or(|(major, minor)| t.emitted_by(major, minor)))
        .map(|t| t.name)
}

/// "did you mean ...?": the topic a misspelt one most likely meant.
pub fn closest(topic: &str) -> Option<&'static str> {
    let folded = fold(topic);
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == folded) {
        return Some(to);
    }
    let names: Vec<&'static str> = names(None).collect();
    let best = suggest::closest(topic, &names)?;
    lookup(best).map(|t| t.name)
}

/// Why a topic ACA-Py names is never sent, and what to wait on instead.
pub fn never_sent(topic: &str) -> Option<&'static str> {
    NEVER_SENT
        .iter()
        .find(|(name, _)| *name == topic)
        .map(|(_, why)| *why)
}

/// The silent operation an attempted topic name points at, if any.
pub fn silent(topic: &str) -> Option<&'static Silent> {
    let folded = fold(topic);
    SILENT.iter().find(|s| s.words.contains(&folded.as_str()))
}

/// `1.3.6`, `0.12.8`, `1.4.0rc1`, `1.3` → the line; `None` without a minor.
pub fn line_of(version: &str) -> Option<Line> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// What the table says about a topic a scenario waits on.
#[derive(Debug)]
pub enum Verdict {
    /// Sent by the line (or by some line, when none was given).
    Sent(&'static Topic),
    /// A real topic, but not sent by the line asked about.
    NotInLine(&'static Topic),
    /// Named by ACA-Py and never sent; the text says what to use instead.
    NeverSent(&'static str),
    /// The author is waiting on something that sends no event.
    Silent(&'static Silent),
    /// Not a topic ACA-Py sends (a plugin may still send it).
    Unknown { suggestion: Option<&'static str> },
}

/// One call for a load-time check of `wait: { event: TOPIC }`.
pub fn check(topic: &str, line: Option<Line>) -> Verdict {
    if let Some(t) = lookup(topic) {
        return match line {
            Some((major, minor)) if !t.emitted_by(major, minor) => Verdict::NotInLine(t),
            _ => Verdict::Sent(t),
        };
    }
    if let Some(why) = never_sent(topic) {
        return Verdict::NeverSent(why);
    }
    if let Some(s) = silent(topic) {
        return Verdict::Silent(s);
    }
    Verdict::Unknown {
        suggestion: closest(topic),
    }
}

/// Lower case, `-` as `_`.
fn fold(word: &str) -> String {
    word.to_ascii_lowercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_listed_once() {
        let mut names: Vec<&str> = TOPICS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count);
        for (name, _) in NEVER_SENT {
            assert!(lookup(name).is_none(), "{name} is both sent and never sent");
        }
        for (_, to) in ALIASES {
            assert!(lookup(to).is_some(), "alias to unknown topic {to}");
        }
        for s in SILENT {
            for w in s.words {
                assert!(lookup(w).is_none(), "{w} is a real topic");
                assert_eq!(fold(w), *w, "silent words are stored folded");
            }
        }
    }

    #[test]
    fn ranges_fall_on_known_lines() {
        for t in TOPICS {
            assert!(covered(t.first), "{}: first line not in LINES", t.name);
            if let Some(last) = t.last {
                assert!(
                    covered(last) && t.first <= last,
                    "{}: bad last line",
                    t.name
                );
            }
            if t.source == Source::Socket {
                assert!(t.states.is_empty() && t.flag.is_none());
            }
        }
    }

    #[test]
    fn the_menu_topics_are_known_and_the_dashed_guess_is_corrected() {
        for menu in ["actionmenu", "get-active-menu", "perform-menu-action"] {
            assert!(known(menu, None), "{menu}");
            assert!(known(menu, Some((0, 12))) && known(menu, Some((1, 7))));
        }
        assert!(!known("action-menu", None));
        assert_eq!(closest("action-menu"), Some("actionmenu"));
        assert_eq!(closest("action_menu"), Some("actionmenu"));
        assert!(matches!(
            check("action-menu", Some((1, 3))),
            Verdict::Unknown {
                suggestion: Some("actionmenu")
            }
        ));
    }

    #[test]
    fn misspellings_lead_to_the_topic() {
        assert_eq!(closest("connection"), Some("connections"));
        assert_eq!(closest("basicmessage"), Some("basicmessages"));
        assert_eq!(closest("basic_message"), Some("basicmessages"));
        assert_eq!(
            closest("issue_credential_v2"),
            Some("issue_credential_v2_0")
        );
        assert_eq!(closest("present_proof_v2"), Some("present_proof_v2_0"));
        assert_eq!(closest("out-of-band"), Some("out_of_band"));
        assert_eq!(
            closest("revocation_notification"),
            Some("revocation-notification")
        );
        assert_eq!(closest("trust-ping"), Some("ping"));
        assert_eq!(closest("oob"), Some("out_of_band"));
        assert_eq!(closest("frobnicate"), None);
    }

    #[test]
    fn the_v1_exchanges_end_with_1_4() {
        for name in ["issue_credential", "present_proof"] {
            let t = lookup(name).unwrap();
            assert!(t.emitted_by(0, 12) && t.emitted_by(1, 4), "{name}");
            assert!(!t.emitted_by(1, 5) && !t.emitted_by(1, 7), "{name}");
            assert!(matches!(check(name, Some((1, 5))), Verdict::NotInLine(_)));
        }
        assert!(!names(Some((1, 6))).any(|n| n == "issue_credential"));
        assert!(names(Some((1, 6))).any(|n| n == "issue_credential_v2_0"));
    }

    #[test]
    fn the_anoncreds_detail_topic_starts_with_1_1() {
        let t = lookup("issue_credential_v2_0_anoncreds").unwrap();
        assert!(!t.emitted_by(0, 12) && !t.emitted_by(1, 0));
        assert!(t.emitted_by(1, 1) && t.emitted_by(1, 7));
        // A line newer than the table keeps what the newest still sends.
        assert!(t.emitted_by(1, 8) && !covered((1, 8)));
    }

    #[test]
    fn flags_and_payload_facts() {
        assert_eq!(lookup("ping").unwrap().flag, Some("--monitor-ping"));
        assert_eq!(lookup("forward").unwrap().flag, Some("--monitor-forward"));
        assert_eq!(
            lookup("revocation-notification-v2").unwrap().flag,
            Some("--monitor-revocation-notification")
        );
        assert_eq!(lookup("basicmessages").unwrap().flag, None);
        assert!(!lookup("ping").unwrap().ids.contains(&"connection_id"));
        let conn = lookup("connections").unwrap();
        assert!(conn.states.contains(&"active") && conn.states.contains(&"error"));
        assert!(!conn.states.contains(&"abandoned") && !conn.states.contains(&"completed"));
        assert_eq!(lookup("settings").unwrap().source, Source::Socket);
        assert!(lookup("discover_feature_v2_0").unwrap().states.is_empty());
    }

    #[test]
    fn silent_and_never_sent_names() {
        assert!(matches!(check("did-rotate", None), Verdict::Silent(_)));
        assert!(matches!(
            check("DID_ROTATE", Some((1, 3))),
            Verdict::Silent(_)
        ));
        assert!(silent("did_rotate").unwrap().poll.contains("/connections/"));
        assert!(matches!(
            check("oob_invitation", None),
            Verdict::NeverSent(why) if why.contains("out_of_band")
        ));
        assert!(matches!(
            check("connections", Some((1, 7))),
            Verdict::Sent(_)
        ));
    }

    #[test]
    fn the_documentation_has_a_row_for_every_topic() {
        let doc = include_str!("../../docs/event-topics.md");
        for t in TOPICS {
            let row = format!("| `{}` |", t.name);
            assert!(
                doc.contains(&row),
                "docs/event-topics.md lacks `{}`",
                t.name
            );
            if let Some(flag) = t.flag {
                assert!(doc.contains(flag), "docs/event-topics.md lacks {flag}");
            }
        }
    }

    #[test]
    fn version_lines() {
        assert_eq!(line_of("1.3.6"), Some((1, 3)));
        assert_eq!(line_of("0.12.8"), Some((0, 12)));
        assert_eq!(line_of("1.4.0rc1"), Some((1, 4)));
        assert_eq!(line_of("1.10"), Some((1, 10)));
        assert_eq!(line_of("v1.7.0"), Some((1, 7)));
        assert_eq!(line_of("1"), None);
        assert_eq!(line_of("latest"), None);
    }
}
