"""ElastiCache: replication-group member clusters, their deletion, DeleteCacheSubnetGroup.

moto 5.2.5:
- CreateReplicationGroup lists member clusters (`<group>-001`, ...) in `MemberClusters` and
  `NodeGroups`, but never creates them: DescribeCacheClusters(`<group>-001`) answers
  CacheClusterNotFound, and the AWS provider reads that cluster after creating the group.
- DeleteReplicationGroup leaves the group in `deleting` for ever, so the provider's wait for
  "gone" never ends.
- DeleteCacheSubnetGroup is not implemented.

Here, as AWS does (eventually; moto has no clock for it):
- each member cluster of a new replication group exists as a cache cluster (`available`, same
  node type, engine, version, subnet group, security groups (also in `SecurityGroups`, which
  the provider reads back), port, transit encryption, its node group member's availability
  zone) that names the group in `ReplicationGroupId`;
- DeleteReplicationGroup answers with the group in `deleting` and removes it with its member
  clusters (with RetainPrimaryCluster the primary stays, detached from the group);
- DeleteCacheSubnetGroup removes a subnet group: CacheSubnetGroupNotFoundFault when unknown,
  CacheSubnetGroupInUse while a cache cluster or replication group uses it.
Backend methods are wrapped; the new action is a `delete_cache_subnet_group` method on
`ElastiCacheResponse` (moto's query-protocol dispatch looks actions up by name).
"""

from moto.core.responses import EmptyResult
from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
from moto.elasticache.models import ElastiCacheBackend
from moto.elasticache.responses import ElastiCacheResponse


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name: str, user: str) -> None:
        super().__init__(f"Cache subnet group {name} is currently in use by {user}.")


def _member_azs(group) -> dict[str, str]:
    return {
        m["cache_cluster_id"]: m.get("preferred_availability_zone")
        for ng in group.node_groups
        for m in ng.get("node_group_members", [])
    }


_original_create_rg = ElastiCacheBackend.create_replication_group
_original_delete_rg = ElastiCacheBackend.delete_replication_group


def create_replication_group(self: ElastiCacheBackend, **kwargs):
    group = _original_create_rg(self, **kwargs)
    azs = _member_azs(group)
    for cluster_id in group.member_clusters:
        if cluster_id in self.cache_clusters:
            continue
        cluster = self.create_cache_cluster(
            cache_cluster_id=cluster_id,
            replication_group_id=group.replication_group_id,
            az_mode="single-az",
            preferred_availability_zone=azs.get(cluster_id),
            num_cache_nodes=1,
            cache_node_type=group.cache_node_type,
            engine=group.engine,
            engine_version=group.engine_version,
            cache_parameter_group_name=group.cache_parameter_group_name,
            cache_subnet_group_name=group.cache_subnet_group_name,
            transit_encryption_enabled=group.transit_encryption_enabled,
            network_type=group.network_type,
            ip_discovery=group.ip_discovery,
            snapshot_name=None,
            preferred_maintenance_window=group.preferred_maintenance_window,
            port=group.port,
            notification_topic_arn=group.notification_topic_arn,
            auto_minor_version_upgrade=group.auto_minor_version_upgrade,
            snapshot_retention_limit=group.snapshot_retention_limit,
            snapshot_window=group.snapshot_window,
            auth_token=None,
            outpost_mode=None,
            preferred_outpost_arn=None,
            preferred_availability_zones=None,
            cache_security_group_names=group.cache_security_group_names,
            security_group_ids=group.security_group_ids,
            tags=None,
            snapshot_arns=None,
            preferred_outpost_arns=None,
            log_delivery_configurations=[],
            cache_node_ids_to_remove=None,
            cache_node_ids_to_reboot=None,
        )
        # moto keeps the ids but answers without SecurityGroups; the provider reads the group's
        # security_group_ids from its first member's SecurityGroups (empty: a diff on every plan)
        cluster.security_groups = [{"SecurityGroupId": sg, "Status": "active"} for sg in group.security_group_ids or []]
        cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
        cluster.auth_token_enabled = group.auth_token_enabled
    return group


def delete_replication_group(self: ElastiCacheBackend, replication_group_id: str, retain_primary_cluster):
    group = self.replication_groups.get(replication_group_id)
    primary = group.member_clusters[0] if group and group.member_clusters else None
    members = list(group.member_clusters) if group else []
    group = _original_delete_rg(self, replication_group_id, retain_primary_cluster)  # 404 when unknown
    for cluster_id in members:
        cluster = self.cache_clusters.get(cluster_id)
        if cluster is None:
            continue
        if retain_primary_cluster and cluster_id == primary:
            cluster.replication_group_id = None
        else:
            del self.cache_clusters[cluster_id]
    del self.replication_groups[replication_group_id]
    return group  # the answer still shows it "deleting", as AWS's does


def delete_cache_subnet_group(self: ElastiCacheBackend, cache_subnet_group_name: str) -> None:
    if cache_subnet_group_name not in self.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(cache_subnet_group_name)
    for cluster in self.cache_clusters.values():
        if cluster.cache_subnet_group_name == cache_subnet_group_name:
            raise CacheSubnetGroupInUse(cache_subnet_group_name, f"cache cluster {cluster.cache_cluster_id}")
    for group in self.replication_groups.values():
        if group.cache_subnet_group_name == cache_subnet_group_name:
            raise CacheSubnetGroupInUse(cache_subnet_group_name, f"replication group {group.replication_group_id}")
    del self.cache_subnet_groups[cache_subnet_group_name]


def _delete_cache_subnet_group_response(self: ElastiCacheResponse) -> EmptyResult:
    self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
    return EmptyResult()


def install_members() -> None:
    ElastiCacheBackend.create_replication_group = create_replication_group
    ElastiCacheBackend.delete_replication_group = delete_replication_group


def install_delete_subnet_group() -> None:
    ElastiCacheBackend.delete_cache_subnet_group = delete_cache_subnet_group
    ElastiCacheResponse.delete_cache_subnet_group = _delete_cache_subnet_group_response
