import pytest
from botocore.exceptions import ClientError


def group(ec, rg="app-redis", clusters=1, subnet_group="app-subnets"):
    ec.create_cache_subnet_group(CacheSubnetGroupName=subnet_group, CacheSubnetGroupDescription="d",
                                 SubnetIds=["subnet-1"])
    return ec.create_replication_group(
        ReplicationGroupId=rg, ReplicationGroupDescription="d", Engine="redis", EngineVersion="7.1",
        CacheNodeType="cache.t4g.micro", NumCacheClusters=clusters, CacheSubnetGroupName=subnet_group,
        SecurityGroupIds=["sg-1"], TransitEncryptionEnabled=False, AtRestEncryptionEnabled=True,
    )["ReplicationGroup"]


def error_code(exc):
    return exc.value.response["Error"]["Code"]


def test_member_clusters_exist(aws):
    ec = aws("elasticache")
    rg = group(ec)  # moto 5.2.5 makes one member whatever NumCacheClusters says; ours has one
    assert rg["MemberClusters"] == ["app-redis-001"]
    for cid in rg["MemberClusters"]:
        (c,) = ec.describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)["CacheClusters"]
        assert c["ReplicationGroupId"] == "app-redis"
        assert c["CacheClusterStatus"] == "available"
        assert c["CacheNodeType"] == "cache.t4g.micro"
        assert c["Engine"] == "redis" and c["EngineVersion"] == "7.1"
        assert c["CacheSubnetGroupName"] == "app-subnets"
        assert [g["SecurityGroupId"] for g in c["SecurityGroups"]] == ["sg-1"]
    assert len(ec.describe_cache_clusters()["CacheClusters"]) == 1


def test_delete_replication_group_removes_it_and_its_members(aws):
    ec = aws("elasticache")
    group(ec)
    answer = ec.delete_replication_group(ReplicationGroupId="app-redis")["ReplicationGroup"]
    assert answer["Status"] == "deleting"
    with pytest.raises(ClientError) as gone:
        ec.describe_replication_groups(ReplicationGroupId="app-redis")
    assert error_code(gone) == "ReplicationGroupNotFoundFault"
    with pytest.raises(ClientError) as member:
        ec.describe_cache_clusters(CacheClusterId="app-redis-001")
    assert error_code(member) == "CacheClusterNotFound"
    with pytest.raises(ClientError) as again:
        ec.delete_replication_group(ReplicationGroupId="app-redis")
    assert error_code(again) == "ReplicationGroupNotFoundFault"


def test_delete_replication_group_can_retain_the_primary(aws):
    ec = aws("elasticache")
    group(ec)
    ec.delete_replication_group(ReplicationGroupId="app-redis", RetainPrimaryCluster=True)
    clusters = ec.describe_cache_clusters()["CacheClusters"]
    assert [c["CacheClusterId"] for c in clusters] == ["app-redis-001"]
    assert not clusters[0].get("ReplicationGroupId")


def test_delete_cache_subnet_group(aws):
    ec = aws("elasticache")
    group(ec)
    with pytest.raises(ClientError) as in_use:
        ec.delete_cache_subnet_group(CacheSubnetGroupName="app-subnets")
    assert error_code(in_use) == "CacheSubnetGroupInUse"
    assert "app-redis" in in_use.value.response["Error"]["Message"]

    ec.delete_replication_group(ReplicationGroupId="app-redis")
    ec.delete_cache_subnet_group(CacheSubnetGroupName="app-subnets")
    with pytest.raises(ClientError) as gone:
        ec.describe_cache_subnet_groups(CacheSubnetGroupName="app-subnets")
    assert error_code(gone) == "CacheSubnetGroupNotFoundFault"
    with pytest.raises(ClientError) as unknown:
        ec.delete_cache_subnet_group(CacheSubnetGroupName="app-subnets")
    assert error_code(unknown) == "CacheSubnetGroupNotFoundFault"
