//! A key rotation made anywhere (here: `tessera keys rotate`, run by an operator against the
//! shared database) reaches every replica without a restart, within the key ring's refresh
//! bound, and no token either replica issues meanwhile fails to verify against either JWKS.

use std::time::{Duration, Instant};

use broker::provider::keyring::KEY_REFRESH;
use tessera_tests::expect_status;

use super::{Cluster, post_form, service_token, verify_at};

/// Allowance on top of [`KEY_REFRESH`] for a machine busy with other builds and tests.
const SLACK: Duration = Duration::from_secs(8);

#[tokio::test]
async fn key_rotation_on_one_replica_reaches_the_other_without_restart() {
    let test = "key_rotation_on_one_replica_reaches_the_other_without_restart";
    let Some(cluster) = Cluster::start(test).await else {
        return;
    };
    let (a, b) = (&cluster.a, &cluster.b);
    let issuer = &cluster.shared.public_url;
    let (client_id, secret) = cluster.service_app(a).await;
    let creds = (client_id.as_str(), secret.as_str());
    let (old_kid, _) = verify_at(&b.base, issuer, &service_token(&a.base, creds).await)
        .await
        .unwrap();

    let rotated = cluster
        .shared
        .command()
        .args(["keys", "rotate", "--alg", "RS256"])
        .output()
        .unwrap();
    let rotated_at = Instant::now();
    let report = String::from_utf8_lossy(&rotated.stderr).into_owned();
    assert!(rotated.status.success(), "{report}");
    let new_kid = report
        .split("RS256: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no new kid in: {report}"))
        .to_owned();
    assert_ne!(new_kid, old_kid);

    // Both replicas keep issuing; each token verifies against both JWKS and is active when
    // the other replica introspects it, until both sign with the new key.
    let bound = KEY_REFRESH.to_std().unwrap() + SLACK;
    let mut switched: [Option<Duration>; 2] = [None, None];
    while switched.iter().any(Option::is_none) {
        assert!(
            rotated_at.elapsed() < bound,
            "the new key did not reach every replica within {bound:?}: {switched:?}"
        );
        for (i, (issuing, other)) in [(a, b), (b, a)].into_iter().enumerate() {
            let token = service_token(&issuing.base, creds).await;
            let mut kids = Vec::new();
            for replica in [a, b] {
                let (kid, _) = verify_at(&replica.base, issuer, &token).await.unwrap();
                kids.push(kid);
            }
            let form = [("token", token.as_str())];
            let introspected = post_form(&other.base, "/oauth2/introspect", creds, &form).await;
            assert_eq!(
                expect_status(introspected.unwrap(), 200).await["active"],
                true
            );
            assert!(kids[0] == old_kid || kids[0] == new_kid, "{kids:?}");
            if kids[0] == new_kid && switched[i].is_none() {
                switched[i] = Some(rotated_at.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{test}: replica A signed with the new key after {:?}, replica B after {:?} \
         (bound: {} s, then the next request)",
        switched[0].unwrap(),
        switched[1].unwrap(),
        KEY_REFRESH.num_seconds()
    );
}
