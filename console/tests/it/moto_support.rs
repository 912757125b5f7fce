//! The moto test support itself: it starts, answers the SDK, resets, and stops on drop.

use opsconsole_testsupport::moto::{MOTO_ACCOUNT, MotoServer};

#[tokio::test]
async fn moto_server_answers_sdk_calls_and_stops_on_drop() -> anyhow::Result<()> {
    let moto = MotoServer::start()?;
    let port = moto.port();
    let clients = moto.clients("eu-west-1").await;
    let who = clients.sts.get_caller_identity().send().await?;
    assert_eq!(who.account(), Some(MOTO_ACCOUNT));
    // A resource made through the SDK is there, and gone after a reset.
    clients
        .s3
        .create_bucket()
        .bucket("moto-support-check")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await?;
    let n = clients.s3.list_buckets().send().await?.buckets().len();
    assert_eq!(n, 1);
    moto.reset()?;
    assert_eq!(clients.s3.list_buckets().send().await?.buckets().len(), 0);
    drop(moto);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "moto still listening after drop"
    );
    Ok(())
}
