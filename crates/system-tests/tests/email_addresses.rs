//! user-svc and the mailer agree on which addresses can be mailed
//! (issue 14): an address user-svc accepts at register is one the mailer
//! sends to, so no account is created that can never verify or reset.

#[test]
fn every_address_user_svc_accepts_is_one_the_mailer_can_send_to() {
    let candidates = [
        "ada@example.com",
        "  Ada.Lovelace+tag@Mail.Example.co.uk ",
        "o'brien@example.ie",
        "a!#$%&'*+/=?^_`{|}~-@example.com",
        "x@xn--exmple-cua.com",
        "josé@example.com",
        "ada@exämple.com",
        "ada@例え.jp",
        "ÅSA@EXAMPLE.COM",
        "\u{0430}da@example.com",
        "ada@example.com\u{200b}",
        "\"john doe\"@example.com",
        "a..b@example.com",
        "a@-example.com",
    ];
    let mut accepted = 0;
    for raw in candidates {
        let Ok(email) = user_svc::Email::parse(raw) else {
            continue;
        };
        accepted += 1;
        assert!(
            mailer::job::EmailAddress::parse(email.as_str()).is_ok(),
            "user-svc accepts {raw:?} (as {email}) but the mailer would drop its mail"
        );
    }
    assert_eq!(accepted, 5, "the ASCII candidates are accepted");
}
