use super::*;

/// get (read string fast), set (write string slow), config with get/set (admin slow),
/// publish (pubsub fast), select (connection fast).
fn catalog() -> Catalog {
    let b = |names: &[&str]| {
        names
            .iter()
            .map(|n| category_bit(n).unwrap())
            .fold(0, |a, x| a | x)
    };
    let c = |name: &str, cats: u64, subs: Vec<usize>, is_sub: bool| CommandInfo {
        fullname: name.into(),
        categories: cats,
        subcommands: subs,
        is_sub,
    };
    Catalog::new(vec![
        c("get", b(&["read", "string", "fast"]), vec![], false),
        c("set", b(&["write", "string", "slow"]), vec![], false),
        c("config", b(&["slow"]), vec![3, 4], false),
        c("config|get", b(&["admin", "slow"]), vec![], true),
        c("config|set", b(&["admin", "slow"]), vec![], true),
        c("publish", b(&["pubsub", "fast"]), vec![], false),
        c("select", b(&["connection", "fast"]), vec![], false),
    ])
}

fn user(cat: &Catalog, ops: &[&str]) -> User {
    let mut u = User::new("u", cat);
    let ops: Vec<&[u8]> = ops.iter().map(|o| o.as_bytes()).collect();
    u.apply_all(cat, &ops).unwrap();
    u
}

fn call<'a>(id: usize, keys: &'a [(usize, &'a [u8], u8)]) -> Call<'a> {
    Call {
        id,
        no_auth: false,
        first_arg: None,
        keys,
        channels: &[],
    }
}

#[test]
fn passwords_are_sha256_and_nopass_accepts_anything_while_on() {
    let cat = catalog();
    assert_eq!(
        hash_password(b"foo"),
        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    );
    let mut u = user(&cat, &[">foo", ">bar"]);
    assert!(!u.password_ok(b"foo"), "off users cannot authenticate");
    u.apply(&cat, b"on").unwrap();
    assert!(u.password_ok(b"foo") && u.password_ok(b"bar") && !u.password_ok(b"baz"));
    u.apply(&cat, b"<foo").unwrap();
    assert!(!u.password_ok(b"foo"));
    assert_eq!(u.apply(&cat, b"<foo"), Err(RuleError::NoSuchPassword));
    assert_eq!(u.apply(&cat, b"#abc"), Err(RuleError::BadHash));
    let h = hash_password(b"zz");
    u.apply(&cat, format!("#{h}").as_bytes()).unwrap();
    assert!(u.password_ok(b"zz"));
    u.apply(&cat, format!("!{h}").as_bytes()).unwrap();
    assert!(!u.password_ok(b"zz"));
    u.apply(&cat, b"nopass").unwrap();
    assert!(u.password_ok(b"anything"));
    u.apply(&cat, b"resetpass").unwrap();
    assert!(!u.password_ok(b"anything"));
}

#[test]
fn commands_categories_and_subcommands() {
    let cat = catalog();
    let u = user(&cat, &["+@string", "-set", "+config|get"]);
    assert!(u.check(&call(0, &[])).is_ok());
    assert_eq!(u.check(&call(1, &[])), Err((Denied::Command, 0)));
    assert!(u.check(&call(3, &[])).is_ok());
    assert!(u.check(&call(4, &[])).is_err());
    assert_eq!(
        u.selectors[0].describe_commands(&cat),
        "-@all +@read +config|get"
    );
    let u = user(&cat, &["+@all", "-config"]);
    assert_eq!(
        u.selectors[0].describe_commands(&cat),
        "+@all -@admin -config"
    );
    assert_eq!(u.check(&call(3, &[])), Err((Denied::Command, 0)));
    assert!(!u.unrestricted());
    assert_eq!(
        user(&cat, &["allcommands"]).selectors[0].describe_commands(&cat),
        "+@all"
    );
    let mut u = User::new("u", &cat);
    assert_eq!(u.apply(&cat, b"+nosuch"), Err(RuleError::UnknownName));
    assert_eq!(u.apply(&cat, b"+@nosuch"), Err(RuleError::UnknownName));
    assert_eq!(
        u.apply(&cat, b"+config|get|x"),
        Err(RuleError::FirstArgOfSub)
    );
    assert_eq!(
        u.apply(&cat, b"+config|nosuch"),
        Err(RuleError::UnknownName)
    );
    assert_eq!(u.apply(&cat, b"+select|"), Err(RuleError::Syntax));
    assert_eq!(u.apply(&cat, b"bogus"), Err(RuleError::Syntax));
}

#[test]
fn first_args_allow_one_argument_of_a_denied_command() {
    let cat = catalog();
    let u = user(&cat, &["+select|0"]);
    let mut c = call(6, &[]);
    c.first_arg = Some(b"0");
    assert!(u.check(&c).is_ok());
    c.first_arg = Some(b"1");
    assert!(u.check(&c).is_err());
    assert_eq!(u.selectors[0].describe_commands(&cat), "-@all +select|0");
}

#[test]
fn keys_need_a_pattern_with_the_access_the_command_uses() {
    let cat = catalog();
    let u = user(&cat, &["+@all", "%R~r*", "%W~w*", "~rw*"]);
    assert!(u.check(&call(0, &[(1, b"r1", READ)])).is_ok());
    assert_eq!(
        u.check(&call(1, &[(1, b"r1", WRITE)])),
        Err((Denied::Key, 1))
    );
    assert!(u.check(&call(1, &[(1, b"w1", WRITE)])).is_ok());
    assert!(u.check(&call(1, &[(1, b"rw1", READ | WRITE)])).is_ok());
    assert_eq!(u.selectors[0].describe_keys(), "%R~r* %W~w* ~rw*");
    let mut u = user(&cat, &["allkeys"]);
    assert_eq!(u.apply(&cat, b"~x"), Err(RuleError::KeysAfterAll));
    assert_eq!(u.apply(&cat, b"%X~x"), Err(RuleError::KeysAfterAll));
    let mut u = user(&cat, &["resetkeys"]);
    assert_eq!(u.apply(&cat, b"%X~x"), Err(RuleError::Syntax));
    u.apply(&cat, b"%R~x").unwrap();
    u.apply(&cat, b"%W~x").unwrap();
    assert_eq!(u.selectors[0].describe_keys(), "~x");
}

#[test]
fn channels_match_globs_and_patterns_match_literally() {
    let cat = catalog();
    let u = user(&cat, &["+@all", "resetchannels", "&news.*"]);
    let ch = |c: &'static [u8], pat| Call {
        id: 5,
        no_auth: false,
        first_arg: None,
        keys: &[],
        channels: Box::leak(Box::new([(1usize, c, pat)])),
    };
    assert!(u.check(&ch(b"news.today", false)).is_ok());
    assert_eq!(u.check(&ch(b"sport", false)), Err((Denied::Channel, 1)));
    assert!(u.check(&ch(b"news.*", true)).is_ok());
    assert!(u.check(&ch(b"news.x*", true)).is_err());
    let mut u = user(&cat, &["allchannels"]);
    assert_eq!(u.apply(&cat, b"&x"), Err(RuleError::ChannelsAfterAll));
}

#[test]
fn selectors_add_permissions_and_reset_clears_everything() {
    let cat = catalog();
    let mut u = user(&cat, &["on", "+get", "~a*", "(+set ~b*)"]);
    assert!(u.check(&call(0, &[(1, b"a1", READ)])).is_ok());
    assert!(u.check(&call(1, &[(1, b"b1", WRITE)])).is_ok());
    // Neither selector allows SET on a1: the key refusal is the relevant one.
    assert_eq!(
        u.check(&call(1, &[(1, b"a1", WRITE)])),
        Err((Denied::Key, 1))
    );
    assert_eq!(
        u.describe(&cat),
        "on ~a* resetchannels -@all +@read (~b* resetchannels -@all +@write)"
    );
    u.apply(&cat, b"clearselectors").unwrap();
    assert_eq!(u.selectors.len(), 1);
    u.apply(&cat, b"reset").unwrap();
    assert_eq!(u.describe(&cat), "off sanitize-payload resetchannels -@all");
    // A failing rule leaves the user unchanged.
    let before = u.clone();
    assert_eq!(
        u.apply_all(&cat, &[b"on", b"+nosuch"]),
        Err((1, RuleError::UnknownName))
    );
    assert_eq!(u, before);
    assert_eq!(
        User::default_user(&cat).describe(&cat),
        "on nopass ~* &* +@all"
    );
    assert!(User::default_user(&cat).unrestricted());
}
