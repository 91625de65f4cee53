"""Table-driven refusals: every bad value is refused by name, with what is allowed, and never crashes the loader.

Each row: (raw overrides on a valid base config, the key the problem line must start with, a fragment of the
allowed text). An "aws:region" override is passed as the region. Semantic rows come from AWS/Kubernetes rules
(see infra/config/*.py for the sources); generic rows feed every key every wrong YAML type.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ConfigError, load_config, settings

KARPENTER = {"nodeProvisioner": "karpenter"}
AUTO = {"nodeProvisioner": "auto-mode"}
VALID: dict[str, Any] = {"zoneName": "example.com", "hostname": "app.example.com",
                         "publicAccessCidrs": ["203.0.113.0/24"]}
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = "arn:aws:iam::123456789012:role/platform-admins"


def problems_of(raw: dict[str, Any]) -> list[str]:
    raw = {**VALID, **raw}
    region = raw.pop("aws:region", "us-east-1")
    with pytest.raises(ConfigError) as err:
        load_config(raw, project="webstack", stack="t", region=region)
    return err.value.problems


Row = tuple[dict[str, Any], str, str]

SEMANTIC: list[Row] = [
    # region: botocore's endpoint data
    ({"aws:region": "us-east-9"}, "aws:region", "endpoint data"),
    ({"aws:region": "mars-1"}, "aws:region", "endpoint data"),
    ({"aws:region": "US-EAST-1"}, "aws:region", "endpoint data"),
    ({"aws:region": "us-east-1\n"}, "aws:region", "endpoint data"),
    ({"aws:region": "us-east-1 "}, "aws:region", "endpoint data"),
    ({"aws:region": "us-east-\u0661"}, "aws:region", "endpoint data"),
    ({"aws:region": 5}, "aws:region", "endpoint data"),
    ({"aws:region": ["us-east-1"]}, "aws:region", "endpoint data"),
    ({"aws:region": "useast1"}, "aws:region", "endpoint data"),
    ({"aws:region": ""}, "aws:region", "is not set"),
    ({"aws:region": None}, "aws:region", "is not set"),
    # vpcCidr
    ({"vpcCidr": "10.0.0.1/16"}, "vpcCidr", "no host bits"),
    ({"vpcCidr": "not-a-cidr"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "8.8.0.0/16"}, "vpcCidr", "private range"),
    ({"vpcCidr": "10.0.0.0/8"}, "vpcCidr", "/16 to /24"),
    ({"vpcCidr": "10.0.0.0/25"}, "vpcCidr", "/16 to /24"),
    ({"vpcCidr": "192.168.0.0/15"}, "vpcCidr", "private range"),
    ({"vpcCidr": "100.128.0.0/16"}, "vpcCidr", "private range"),
    ({"vpcCidr": "172.32.0.0/16"}, "vpcCidr", "private range"),
    ({"vpcCidr": "fd00::/16"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "010.0.0.0/16"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0/33"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0/\u0661\u0666"}, "vpcCidr", "IPv4 CIDR"),
    ({"vpcCidr": "10.0.0.0/16 "}, "vpcCidr", "IPv4 CIDR"),
    # azCount, subnets
    ({"azCount": 1}, "azCount", "2 to 6"),
    ({"azCount": 7}, "azCount", "2 to 6"),
    ({"azCount": 0}, "azCount", "2 to 6"),
    ({"azCount": -1}, "azCount", "2 to 6"),
    ({"azCount": "three"}, "azCount", "whole number"),
    ({"azCount": 4, "aws:region": "eu-west-1"}, "azCount/aws:region", "eu-west-1 has 3 availability zones"),
    ({"azCount": 4, "aws:region": "us-east-2"}, "azCount/aws:region", "us-east-2 has 3"),
    ({"azCount": 5, "aws:region": "ap-northeast-2"}, "azCount/aws:region", "has 4"),
    ({"privateSubnetPrefixLength": 15}, "privateSubnetPrefixLength", "16 to 28"),
    ({"privateSubnetPrefixLength": 29}, "privateSubnetPrefixLength", "16 to 28"),
    ({"privateSubnetPrefixLength": 32}, "privateSubnetPrefixLength", "16 to 28"),
    ({"vpcCidr": "10.0.0.0/20", "privateSubnetPrefixLength": 20}, "privateSubnetPrefixLength/vpcCidr",
     "longer than the VPC prefix /20"),
    ({"publicSubnetPrefixLength": 28}, "publicSubnetPrefixLength", "16 to 27"),
    ({"publicSubnetPrefixLength": 29}, "publicSubnetPrefixLength", "16 to 27"),
    ({"publicSubnetPrefixLength": 15}, "publicSubnetPrefixLength", "16 to 27"),
    ({"vpcCidr": "10.0.0.0/24", "privateSubnetPrefixLength": 26, "publicSubnetPrefixLength": 24},
     "publicSubnetPrefixLength/vpcCidr", "longer than the VPC prefix /24"),
    ({"vpcCidr": "10.0.0.0/24", "privateSubnetPrefixLength": 26, "publicSubnetPrefixLength": 27},
     "vpcCidr/azCount/privateSubnetPrefixLength/publicSubnetPrefixLength", "do not fit"),
    ({"vpcCidr": "10.0.0.0/20", "privateSubnetPrefixLength": 22, "azCount": 6},
     "vpcCidr/azCount/privateSubnetPrefixLength/publicSubnetPrefixLength", "do not fit"),
    # natStrategy, flow logs
    ({"natStrategy": "none"}, "natStrategy", "allowed: single, per-az"),
    ({"natStrategy": "PER-AZ"}, "natStrategy", "allowed: single, per-az"),
    ({"natStrategy": "per_az"}, "natStrategy", "allowed: single, per-az"),
    ({"natStrategy": ""}, "natStrategy", "allowed: single, per-az"),
    ({"natStrategy": "single "}, "natStrategy", "allowed: single, per-az"),
    ({"flowLogsRetentionDays": 10}, "flowLogsRetentionDays", "allowed: 1, 3, 5"),
    ({"flowLogsRetentionDays": 0}, "flowLogsRetentionDays", "allowed: 1, 3, 5"),
    ({"flowLogsRetentionDays": 366}, "flowLogsRetentionDays", "allowed: 1, 3, 5"),
    ({"flowLogsRetentionDays": 3650}, "flowLogsRetentionDays", "3653"),
    ({"flowLogsRetentionDays": 100000}, "flowLogsRetentionDays", "3653"),
    # registry
    ({"repositoryName": "Web App"}, "repositoryName", "lowercase"),
    ({"repositoryName": "a"}, "repositoryName", "2 to 256"),
    ({"repositoryName": "webapp/"}, "repositoryName", "lowercase"),
    ({"repositoryName": "/webapp"}, "repositoryName", "lowercase"),
    ({"repositoryName": "web..app"}, "repositoryName", "lowercase"),
    ({"repositoryName": "WebApp"}, "repositoryName", "lowercase"),
    ({"repositoryName": "web_app_"}, "repositoryName", "lowercase"),
    ({"repositoryName": "a" * 257}, "repositoryName", "2 to 256"),
    ({"repositoryName": "-webapp"}, "repositoryName", "lowercase"),
    ({"repositoryName": "webapp."}, "repositoryName", "lowercase"),
    ({"repositoryName": "web//app"}, "repositoryName", "lowercase"),
    ({"registryEncryption": "DES"}, "registryEncryption", "allowed: AES256, KMS"),
    ({"registryEncryption": "aes256"}, "registryEncryption", "allowed: AES256, KMS"),
    ({"registryEncryption": "KMS_DSSE"}, "registryEncryption", "allowed: AES256, KMS"),
    ({"registryKmsKeyArn": KMS}, "registryKmsKeyArn/registryEncryption", "only allowed with registryEncryption"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": "not-an-arn"}, "registryKmsKeyArn", "KMS key or alias ARN"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": "arn:aws:kms:us-east-1:123:key/abc"}, "registryKmsKeyArn",
     "KMS key or alias ARN"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": KMS.replace("us-east-1", "eu-west-1")},
     "registryKmsKeyArn/aws:region", "stack's region and partition"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": KMS.replace("arn:aws:", "arn:aws-cn:")},
     "registryKmsKeyArn/aws:region", "stack's region and partition"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": "arn:aws:s3:::bucket"}, "registryKmsKeyArn", "KMS key"),
    ({"registryEncryption": "KMS", "registryKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/"},
     "registryKmsKeyArn", "KMS key"),
    ({"untaggedImageExpiryDays": 0}, "untaggedImageExpiryDays", "1 to 3650"),
    ({"untaggedImageExpiryDays": 3651}, "untaggedImageExpiryDays", "1 to 3650"),
    ({"untaggedImageExpiryDays": -5}, "untaggedImageExpiryDays", "1 to 3650"),
    ({"imagesToKeep": 0}, "imagesToKeep", "1 to 10000"),
    ({"imagesToKeep": 10001}, "imagesToKeep", "1 to 10000"),
    # zoneName, hostname, certificate names
    ({"zoneName": "-bad-.com"}, "zoneName", "DNS name"),
    ({"zoneName": "com"}, "zoneName", "DNS name"),
    ({"zoneName": "exa mple.com"}, "zoneName", "DNS name"),
    ({"zoneName": "*.example.com"}, "zoneName", "no wildcard"),
    ({"zoneName": "example..com"}, "zoneName", "DNS name"),
    ({"zoneName": "a" * 64 + ".com"}, "zoneName", "DNS name"),
    ({"zoneName": "a." * 127 + "com"}, "zoneName", "DNS name"),
    ({"zoneName": "example.123"}, "zoneName", "DNS name"),
    ({"zoneId": "z0123456789ABC"}, "zoneId", "Route 53 hosted zone ID"),
    ({"zoneId": "/hostedzone/Z0123456789ABC"}, "zoneId", "Route 53 hosted zone ID"),
    ({"zoneId": "Z" + "A" * 32}, "zoneId", "Route 53 hosted zone ID"),
    ({"zoneId": "Z0123456789ABC", "createZone": True}, "zoneId/createZone", "set one of them"),
    ({"zoneName": ""}, "zoneName", "is not set"),
    ({"zoneName": None}, "zoneName", "is not set"),
    ({"zoneName": "example.com/"}, "zoneName", "DNS name"),
    ({"zoneName": "ex_ample.com"}, "zoneName", "DNS name"),
    ({"zoneName": "\u00e9xample.com"}, "zoneName", "DNS name"),
    ({"hostname": "app.other.org"}, "hostname/zoneName", "inside zoneName"),
    ({"hostname": "App_Name.example.com"}, "hostname", "lowercase DNS name"),
    ({"hostname": "*.example.com"}, "hostname", "lowercase DNS name"),
    ({"hostname": ""}, "hostname", "is not set"),
    ({"hostname": None}, "hostname", "is not set"),
    ({"hostname": "a" * 53 + ".example.com"}, "hostname", "at most 64 characters"),
    ({"hostname": "app..example.com"}, "hostname", "DNS name"),
    ({"hostname": "example"}, "hostname", "DNS name"),
    ({"hostname": "-app.example.com"}, "hostname", "DNS name"),
    ({"hostname": "app-.example.com"}, "hostname", "DNS name"),
    ({"hostname": "a" * 64 + ".example.com"}, "hostname", "1-63"),
    ({"hostname": "APP.example.com"}, "hostname", "lowercase"),
    ({"hostname": "notexample.com"}, "hostname/zoneName", "inside zoneName"),
    ({"certificateExtraNames": ["www.other.org"]}, "certificateExtraNames/zoneName", "inside zoneName"),
    ({"certificateExtraNames": ["*.*.example.com"]}, "certificateExtraNames", "DNS name"),
    ({"certificateExtraNames": ["x"]}, "certificateExtraNames", "DNS name"),
    ({"certificateExtraNames": [f"n{i}.example.com" for i in range(10)]}, "certificateExtraNames",
     "at most 9 entries"),
    ({"certificateExtraNames": ["www.example.com", "www.example.com"]}, "certificateExtraNames", "unique"),
    ({"certificateExtraNames": ["app.example.com"]}, "certificateExtraNames/hostname", "must not repeat hostname"),
    ({"certificateExtraNames": ["*"]}, "certificateExtraNames", "DNS name"),
    ({"certificateExtraNames": ["WWW.example.com"]}, "certificateExtraNames", "lowercase"),
    ({"certificateExtraNames": [""]}, "certificateExtraNames", "DNS name"),
    ({"certificateExtraNames": ["www.example.org.example.net"]}, "certificateExtraNames/zoneName", "inside"),
    # cluster
    ({"clusterName": "-bad"}, "clusterName", "letters, digits"),
    ({"clusterName": "bad name"}, "clusterName", "letters, digits"),
    ({"clusterName": "a" * 31}, "clusterName", "1 to 30 characters"),
    ({"clusterName": "a" * 101}, "clusterName", "1 to 30 characters"),
    ({"clusterName": "_x"}, "clusterName", "letters, digits"),
    ({"clusterName": "\u00fcmlaut"}, "clusterName", "letters, digits"),
    ({"clusterName": "name.with.dot"}, "clusterName", "letters, digits"),
    ({"kubernetesVersion": "1.23"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "1.29"}, "kubernetesVersion", "1.35"),
    ({"kubernetesVersion": "1.31"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "1.37"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "v1.35"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "1.35.0"}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": 1.3}, "kubernetesVersion", "allowed: 1.32"),
    ({"kubernetesVersion": "latest"}, "kubernetesVersion", "allowed: 1.32"),
    ({"endpointPublicAccess": False}, "publicAccessCidrs/endpointPublicAccess", "only allowed when endpointPublic"),
    ({"publicAccessCidrs": ["10.0.0.300/32"]}, "publicAccessCidrs", "IPv4 CIDR"),
    ({"publicAccessCidrs": ["0.0.0.0/0"]}, "publicAccessCidrs", "whole internet"),
    ({"publicAccessCidrs": []}, "publicAccessCidrs/endpointPublicAccess", "endpointPublicAccess is true"),
    ({"publicAccessCidrs": None}, "publicAccessCidrs/endpointPublicAccess", "list the CIDRs"),
    ({"publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, "publicAccessCidrs", "whole internet"),
    ({"publicAccessCidrs": ["1.0.0.0/8", "2.0.0.0/8"]}, "publicAccessCidrs", "more than one /8"),
    ({"publicAccessCidrs": [f"{i}.0.0.0/9" for i in range(1, 4)]}, "publicAccessCidrs", "more than one /8"),
    ({"publicAccessCidrs": ["10.0.0.0/8"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["192.168.1.0/24"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["127.0.0.1/32"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["169.254.169.254/32"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["224.0.0.0/24"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["100.64.0.0/24"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["240.0.0.0/8"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["203.0.113.1/24"]}, "publicAccessCidrs", "no host bits"),
    ({"publicAccessCidrs": ["2001:db8::/32"]}, "publicAccessCidrs", "IPv4 CIDR"),
    ({"publicAccessCidrs": [f"198.51.{i}.0/24" for i in range(41)]}, "publicAccessCidrs", "at most 40 entries"),
    ({"publicAccessCidrs": ["203.0.113.0/24", "203.0.113.0/24"]}, "publicAccessCidrs", "unique"),
    ({"publicAccessCidrs": ["203.0.113.0/24 "]}, "publicAccessCidrs", "IPv4 CIDR"),
    ({"publicAccessCidrs": ["0.0.0.0/8"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["198.18.0.0/15"]}, "publicAccessCidrs", "public addresses"),
    ({"publicAccessCidrs": ["192.0.0.0/29"]}, "publicAccessCidrs", "public addresses"),
    ({"adminPrincipalArns": ["arn:aws:iam::123:root"]}, "adminPrincipalArns", "IAM role or user ARN"),
    ({"adminPrincipalArns": ["arn:aws:iam::123456789012:root"]}, "adminPrincipalArns", "IAM role or user ARN"),
    ({"adminPrincipalArns": [ADMIN, ADMIN]}, "adminPrincipalArns", "unique"),
    ({"adminPrincipalArns": ["arn:aws:sts::123456789012:assumed-role/admins/me"]}, "adminPrincipalArns",
     "IAM role or user ARN"),
    ({"adminPrincipalArns": [ADMIN.replace("arn:aws:", "arn:aws-cn:")]}, "adminPrincipalArns/aws:region",
     "stack's partition (aws)"),
    ({"adminPrincipalArns": ["arn:aws:iam::123456789012:group/admins"]}, "adminPrincipalArns", "IAM role"),
    ({"adminPrincipalArns": ["arn:aws:iam::123456789012:role/" + "a" * 65]}, "adminPrincipalArns", "IAM role"),
    ({"adminPrincipalArns": ["role/admins"]}, "adminPrincipalArns", "IAM role or user ARN"),
    ({"adminPrincipalArns": ["arn:aws:iam::123456789012:role/admins!"]}, "adminPrincipalArns", "IAM role"),
    ({"viewerPrincipalArns": ["arn:aws:iam::123456789012:root"]}, "viewerPrincipalArns", "IAM role or user ARN"),
    ({"viewerPrincipalArns": [ADMIN, ADMIN.replace("platform-admins", "Platform-Admins")]}, "viewerPrincipalArns",
     "unique"),
    ({"viewerPrincipalArns": [ADMIN.replace("arn:aws:", "arn:aws-cn:")]}, "viewerPrincipalArns/aws:region",
     "stack's partition (aws)"),
    ({"viewerPrincipalArns": [ADMIN], "adminPrincipalArns": [ADMIN]}, "viewerPrincipalArns/adminPrincipalArns",
     "also in adminPrincipalArns"),
    ({"clusterLogTypes": ["api", "everything"]}, "clusterLogTypes", "allowed: api, audit"),
    ({"clusterLogTypes": ["API"]}, "clusterLogTypes", "allowed: api, audit"),
    ({"clusterLogTypes": [""]}, "clusterLogTypes", "allowed: api"),
    ({"clusterLogRetentionDays": 10}, "clusterLogRetentionDays", "allowed: 1, 3"),
    ({"clusterLogRetentionDays": 0}, "clusterLogRetentionDays", "allowed: 1, 3"),
    ({"clusterLogRetentionDays": 4000}, "clusterLogRetentionDays", "allowed: 1, 3"),
    ({"nodeInstanceTypes": ["large"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": '"m6i.large"'}, "nodeInstanceTypes", "list of strings"),
    ({"nodeInstanceTypes": "m6i.large"}, "nodeInstanceTypes", "list of strings"),
    ({"nodeInstanceTypes": []}, "nodeInstanceTypes", "1 to 20 entries"),
    ({"nodeInstanceTypes": ["m6i.large", "m7g.large"]}, "nodeInstanceTypes", "one CPU architecture"),
    ({"nodeInstanceTypes": ["u-6tb1.metal", "m7g.large"]}, "nodeInstanceTypes", "one CPU architecture"),
    ({"nodeInstanceTypes": ["m6i.huge2"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": ["M6I.LARGE"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": ["t3.medium", "t3.medium"]}, "nodeInstanceTypes", "unique"),
    ({"nodeInstanceTypes": [f"m6i.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge",
                                                  "16xlarge", "24xlarge", "32xlarge", "metal")]
      + [f"m5.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
                             "24xlarge", "metal")] + ["m5a.large", "m5a.xlarge"]},
     "nodeInstanceTypes", "1 to 20 entries"),
    ({"nodeInstanceTypes": ["mac2.metal"]}, "nodeInstanceTypes", "Dedicated Hosts"),
    ({"nodeInstanceTypes": ["mac-m4.metal"]}, "nodeInstanceTypes", "Dedicated Hosts"),
    ({"nodeInstanceTypes": ["m6i.large "]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": ["t2.nano\n"]}, "nodeInstanceTypes", "control characters"),
    ({"nodeInstanceTypes": ["m6i"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": ["db.m6i.large"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeInstanceTypes": ["\uff4d6i.large"]}, "nodeInstanceTypes", "EC2 instance type"),
    ({"nodeCapacityType": "RESERVED"}, "nodeCapacityType", "allowed: ON_DEMAND, SPOT"),
    ({"nodeCapacityType": "spot"}, "nodeCapacityType", "allowed: ON_DEMAND, SPOT"),
    ({"nodeCapacityType": "CAPACITY_BLOCK"}, "nodeCapacityType", "allowed: ON_DEMAND, SPOT"),
    ({"nodeMinSize": 0, "nodeDesiredSize": 0, "nodeMaxSize": 1}, "nodeMinSize", "1 to 450"),
    ({"nodeMinSize": 1, "nodeDesiredSize": 0, "nodeMaxSize": 1}, "nodeDesiredSize", "1 to 450"),
    ({"nodeMinSize": 0, "nodeDesiredSize": 0, "nodeMaxSize": 0}, "nodeMaxSize", "1 to 450"),
    ({"nodeMinSize": 4, "nodeDesiredSize": 3, "nodeMaxSize": 5}, "nodeMinSize/nodeDesiredSize/nodeMaxSize",
     "min <= desired <= max"),
    ({"nodeMinSize": 2, "nodeDesiredSize": 7, "nodeMaxSize": 6}, "nodeMinSize/nodeDesiredSize/nodeMaxSize",
     "min <= desired <= max"),
    ({"nodeMaxSize": 451}, "nodeMaxSize", "1 to 450"),
    ({"costIncreaseLimitUsd": -1}, "costIncreaseLimitUsd", "0 to 1000000"),
    ({"costIncreaseLimitUsd": 1_000_001}, "costIncreaseLimitUsd", "0 to 1000000"),
    ({"costIncreaseLimitPercent": -5}, "costIncreaseLimitPercent", "0 to 10000"),
    ({"costIncreaseLimitPercent": 10_001}, "costIncreaseLimitPercent", "0 to 10000"),
    ({"nodeDesiredSize": 451}, "nodeDesiredSize", "1 to 450"),
    ({"nodeMinSize": -1}, "nodeMinSize", "1 to 450"),
    ({"nodeDiskSizeGb": 8}, "nodeDiskSizeGb", "20 to 16384"),
    ({"nodeDiskSizeGb": 19}, "nodeDiskSizeGb", "20 to 16384"),
    ({"nodeDiskSizeGb": 16385}, "nodeDiskSizeGb", "20 to 16384"),
    ({"nodeDiskSizeGb": 0}, "nodeDiskSizeGb", "20 to 16384"),
    ({"nodeMaxUnavailable": 0}, "nodeMaxUnavailable", "1 to 100"),
    ({"nodeMaxUnavailable": 101}, "nodeMaxUnavailable", "1 to 100"),
    ({"nodeLabels": {"bad key!": "x"}}, "nodeLabels", "label keys"),
    ({"nodeLabels": {"tier": "has space"}}, "nodeLabels", "values must be 1-63"),
    ({"nodeLabels": {"tier": "x" * 64}}, "nodeLabels", "values must be 1-63"),
    ({"nodeLabels": {"tier": ""}}, "nodeLabels", "values must be 1-63"),
    ({"nodeLabels": {"kubernetes.io/role": "x"}}, "nodeLabels", "reserved"),
    ({"nodeLabels": {"node-role.kubernetes.io/web": "x"}}, "nodeLabels", "reserved"),
    ({"nodeLabels": {"k8s.io/x": "y"}}, "nodeLabels", "reserved"),
    ({"nodeLabels": {"a" * 64: "x"}}, "nodeLabels", "at most 63 characters"),
    ({"nodeLabels": {"example.com/" + "a" * 60: "x"}}, "nodeLabels", "at most 63 characters"),
    ({"nodeLabels": {"-tier": "x"}}, "nodeLabels", "label keys"),
    ({"nodeLabels": {"tier": "-x"}}, "nodeLabels", "values must be"),
    ({"nodeLabels": {"Example.com/tier": "x"}}, "nodeLabels", "label keys"),
    ({"nodeLabels": {"tier": "\u00e9"}}, "nodeLabels", "values must be"),
    ({"nodeLabels": {"tier": 1}}, "nodeLabels", "quote numbers"),
    ({"nodeLabels": {"/tier": "x"}}, "nodeLabels", "label keys"),
    ({"addonVersions": {"istio": "v1.0.0-eksbuild.1"}}, "addonVersions", "add-on must be one of"),
    ({"addonVersions": {"coredns": "latest"}}, "addonVersions", "v1.2.3-eksbuild.1"),
    ({"addonVersions": {"vpc-cni": "1.18.0-eksbuild.1"}}, "addonVersions", "v1.2.3-eksbuild.1"),
    ({"addonVersions": {"kube-proxy": "v1.30.0"}}, "addonVersions", "v1.2.3-eksbuild.1"),
    ({"addonVersions": {"CoreDNS": "v1.11.1-eksbuild.1"}}, "addonVersions", "add-on must be one of"),
    # add-ons
    ({"albControllerChartVersion": "1.8.0"}, "albControllerChartVersion", "allowed: 3.5.0"),
    ({"albControllerChartVersion": "v3.5.0"}, "albControllerChartVersion", "allowed: 3.5.0"),
    ({"externalDnsChartVersion": "1.15.0"}, "externalDnsChartVersion", "allowed: 1.21.1"),
    ({"externalDnsPolicy": "create-only"}, "externalDnsPolicy", "allowed: upsert-only, sync"),
    ({"externalDnsPolicy": "SYNC"}, "externalDnsPolicy", "allowed: upsert-only, sync"),
    ({"workloadIdentity": "kiam"}, "workloadIdentity", "allowed: pod-identity, irsa"),
    ({"workloadIdentity": "IRSA"}, "workloadIdentity", "allowed: pod-identity, irsa"),
    ({"metricsServerChartVersion": "latest"}, "metricsServerChartVersion", "exact chart version"),
    ({"metricsServerChartVersion": "3.13"}, "metricsServerChartVersion", "exact chart version"),
    ({"metricsServerChartVersion": "v3.13.0"}, "metricsServerChartVersion", "exact chart version"),
    # app
    ({"appName": "1webapp"}, "appName", "DNS-1035"),
    ({"appName": "Web_App"}, "appName", "DNS-1035"),
    ({"appName": "web.app"}, "appName", "DNS-1035"),
    ({"appName": "-web"}, "appName", "DNS-1035"),
    ({"appName": "a" * 64}, "appName", "DNS-1035"),
    ({"appName": "webapp-"}, "appName", "DNS-1035"),
    ({"appNamespace": "kube-system"}, "appNamespace", "must not be default, kube-system"),
    ({"appNamespace": "kube-public"}, "appNamespace", "must not be default"),
    ({"appNamespace": "kube-node-lease"}, "appNamespace", "must not be default"),
    ({"appNamespace": "default"}, "appNamespace", "must not be default"),
    ({"appNamespace": "kube-custom"}, "appNamespace", "start with kube-"),
    ({"appNamespace": "external-dns"}, "appNamespace", "external-dns"),
    ({"appNamespace": "Web_App"}, "appNamespace", "DNS-1123"),
    ({"appNamespace": "a" * 64}, "appNamespace", "DNS-1123"),
    ({"appReplicas": 1}, "appReplicas", "2 to 1000"),
    ({"appReplicas": 0}, "appReplicas", "2 to 1000"),
    ({"appReplicas": 1001}, "appReplicas", "2 to 1000"),
    ({"appReplicas": 2**32}, "appReplicas", "whole number from -2147483648 to 2147483647"),
    ({"appCpuRequest": "0"}, "appCpuRequest", "1m to 1000 cores"),
    ({"appCpuRequest": "0m"}, "appCpuRequest", "1m to 1000 cores"),
    ({"appCpuRequest": "500Mi"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuRequest": "500 m"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuRequest": "half"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuRequest": "1e3"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuRequest": "0.0001"}, "appCpuRequest", "whole millicores"),
    ({"appCpuRequest": "-500m"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuRequest": "2", "appCpuLimit": "1000m"}, "appCpuRequest/appCpuLimit", "must not exceed appCpuLimit"),
    ({"appCpuRequest": "1001", "appCpuLimit": "1001"}, "appCpuRequest", "1m to 1000 cores"),
    ({"appCpuRequest": "500m\n"}, "appCpuRequest", "control characters"),
    ({"appCpuRequest": 0}, "appCpuRequest", "1m to 1000 cores"),
    ({"appCpuRequest": "\u0665\u0660\u0660m"}, "appCpuRequest", "CPU quantity"),
    ({"appCpuLimit": "0"}, "appCpuLimit", "1m to 1000 cores"),
    ({"appCpuLimit": "abc"}, "appCpuLimit", "CPU quantity"),
    ({"appCpuLimit": "1.5.0"}, "appCpuLimit", "CPU quantity"),
    ({"appCpuLimit": "250m"}, "appCpuRequest/appCpuLimit", "must not exceed appCpuLimit"),
    ({"appMemoryRequest": "128MB"}, "appMemoryRequest", "memory quantity"),
    ({"appMemoryRequest": "0"}, "appMemoryRequest", "1Mi to 16Ti"),
    ({"appMemoryRequest": "128"}, "appMemoryRequest", "1Mi to 16Ti"),
    ({"appMemoryRequest": "0.5Mi"}, "appMemoryRequest", "1Mi to 16Ti"),
    ({"appMemoryRequest": "128mi"}, "appMemoryRequest", "memory quantity"),
    ({"appMemoryRequest": "1e9"}, "appMemoryRequest", "memory quantity"),
    ({"appMemoryRequest": "17Ti", "appMemoryLimit": "17Ti"}, "appMemoryRequest", "1Mi to 16Ti"),
    ({"appMemoryRequest": "512Mi"}, "appMemoryRequest/appMemoryLimit", "must not exceed appMemoryLimit"),
    ({"appMemoryRequest": "128Mi\n"}, "appMemoryRequest", "control characters"),
    ({"appMemoryRequest": "128m"}, "appMemoryRequest", "memory quantity"),
    ({"appMemoryLimit": "256MB"}, "appMemoryLimit", "memory quantity"),
    ({"appMemoryLimit": "-1Gi"}, "appMemoryLimit", "memory quantity"),
    ({"appMemoryLimit": "1.5"}, "appMemoryLimit", "1Mi to 16Ti"),
    ({"appMemoryLimit": "Gi"}, "appMemoryLimit", "memory quantity"),
    ({"serviceType": "LoadBalancer"}, "serviceType", "allowed: NodePort, ClusterIP"),
    ({"serviceType": "nodeport"}, "serviceType", "allowed: NodePort, ClusterIP"),
    ({"hpaMinReplicas": 1}, "hpaMinReplicas", "2 to 1000"),
    ({"hpaMinReplicas": 1001}, "hpaMinReplicas", "2 to 1000"),
    ({"hpaMinReplicas": 4, "hpaMaxReplicas": 3}, "hpaMaxReplicas/hpaMinReplicas", "at least hpaMinReplicas"),
    ({"hpaMaxReplicas": 1}, "hpaMaxReplicas", "2 to 1000"),
    ({"hpaCpuTargetPercent": 0}, "hpaCpuTargetPercent", "1 to 100"),
    ({"hpaCpuTargetPercent": 101}, "hpaCpuTargetPercent", "1 to 100"),
    ({"hpaCpuTargetPercent": 150}, "hpaCpuTargetPercent", "1 to 100"),
    ({"appProgressDeadlineSeconds": 119}, "appProgressDeadlineSeconds", "120 to 3600"),
    ({"appProgressDeadlineSeconds": 3601}, "appProgressDeadlineSeconds", "120 to 3600"),
    ({"appProgressDeadlineSeconds": "10m"}, "appProgressDeadlineSeconds", "whole number"),
    ({"loadBalancerName": "a-name-that-is-far-too-long-for-an-alb"}, "loadBalancerName", "1-32"),
    ({"loadBalancerName": "internal-app"}, "loadBalancerName", "internal-"),
    ({"loadBalancerName": "-lb"}, "loadBalancerName", "1-32"),
    ({"loadBalancerName": "lb-"}, "loadBalancerName", "1-32"),
    ({"loadBalancerName": "lb_name"}, "loadBalancerName", "1-32"),
    ({"loadBalancerName": "lb.name"}, "loadBalancerName", "1-32"),
    ({"clusterName": "internal-tools"}, "loadBalancerName/clusterName/appName", "internal-"),
    ({"sslPolicy": "ELBSecurityPolicy-2016-08"}, "sslPolicy", "allowed: ELBSecurityPolicy-TLS13"),
    ({"sslPolicy": "ELBSecurityPolicy-TLS-1-2-2017-01"}, "sslPolicy", "allowed: ELBSecurityPolicy-TLS13"),
    # nodeProvisioner and Karpenter's keys (the NodePool CRD's patterns, karpenter.sh/v1 at 1.14.1)
    ({"nodeProvisioner": "fargate"}, "nodeProvisioner", "allowed: managed-nodegroup, karpenter, auto-mode"),
    ({"nodeProvisioner": "Karpenter"}, "nodeProvisioner", "allowed: managed-nodegroup, karpenter"),
    ({**KARPENTER, "karpenterCapacityTypes": []}, "karpenterCapacityTypes", "1 to 2"),
    ({**KARPENTER, "karpenterCapacityTypes": ["spot", "spot"]}, "karpenterCapacityTypes", "must be unique"),
    ({**KARPENTER, "karpenterCapacityTypes": ["SPOT"]}, "karpenterCapacityTypes", "allowed: spot, on-demand"),
    ({**KARPENTER, "karpenterCapacityTypes": ["reserved"]}, "karpenterCapacityTypes", "allowed: spot, on-demand"),
    ({**KARPENTER, "karpenterCpuLimit": 1}, "karpenterCpuLimit", "must be 2 to 100000"),
    ({**KARPENTER, "karpenterDisruptionBudget": "101%"}, "karpenterDisruptionBudget", "a node count or a percentage"),
    ({**KARPENTER, "karpenterDisruptionBudget": "-1"}, "karpenterDisruptionBudget", "a node count or a percentage"),
    ({**KARPENTER, "karpenterConsolidateAfter": "5 minutes"}, "karpenterConsolidateAfter", "a duration"),
    ({**KARPENTER, "karpenterConsolidateAfter": "never"}, "karpenterConsolidateAfter", "a duration"),
    ({"karpenterCpuLimit": 64}, "nodeProvisioner/karpenterCpuLimit", "configures Karpenter"),
    ({"karpenterCapacityTypes": ["spot"]}, "nodeProvisioner/karpenterCapacityTypes", "configures Karpenter"),
    ({"karpenterChartVersion": "1.14.1"}, "karpenterChartVersion/nodeProvisioner", "does not install"),
    ({**KARPENTER, "karpenterChartVersion": "1.13.0"}, "karpenterChartVersion", "allowed: 1.14.1"),
    ({**KARPENTER, "clusterAutoscalerChartVersion": "9.59.0"}, "clusterAutoscalerChartVersion/nodeProvisioner",
     "does not install"),
    ({**KARPENTER, "extraTags": {f"k{i}": "v" for i in range(42)}}, "extraTags/nodeProvisioner",
     "at most 41 extra tags under Karpenter"),
    ({"extraTags": {"karpenter.sh/nodepool": "x"}}, "extraTags", "must not override"),
    # auto-mode: no node group nor managed add-on keys; its NodePool's key only under auto-mode; no LB controller
    ({"autoModeCpuLimit": 64}, "nodeProvisioner/autoModeCpuLimit", "configures the EKS Auto Mode NodePool"),
    ({**AUTO, "autoModeCpuLimit": 1}, "autoModeCpuLimit", "must be 2 to 100000"),
    ({**AUTO, "nodeMinSize": 3, "nodeDesiredSize": 3}, "nodeProvisioner/nodeMinSize",
     "configures the managed node group or its EKS add-ons"),
    ({**AUTO, "nodeCapacityType": "SPOT"}, "nodeProvisioner/nodeCapacityType", "does not create"),
    ({**AUTO, "efsCsiEnabled": True}, "nodeProvisioner/efsCsiEnabled", "is not built"),
    ({**AUTO, "addonVersions": {"coredns": "v1.12.4-eksbuild.1"}}, "nodeProvisioner/addonVersions",
     "does not create"),
    ({**AUTO, "karpenterCpuLimit": 64}, "nodeProvisioner/karpenterCpuLimit", "configures Karpenter"),
    ({**AUTO, "appOnFargate": True, "serviceType": "ClusterIP"}, "nodeProvisioner/appOnFargate", "is not built"),
    ({**AUTO, "albControllerChartVersion": "3.5.0"}, "albControllerChartVersion/nodeProvisioner",
     "does not install"),
    ({**AUTO, "clusterAutoscalerChartVersion": "9.59.0"}, "clusterAutoscalerChartVersion/nodeProvisioner",
     "does not install"),
    # extraTags
    ({"extraTags": {"aws:owner": "me"}}, "extraTags", "not start with 'aws:'"),
    ({"extraTags": {"AWS:owner": "me"}}, "extraTags", "not start with 'aws:'"),
    ({"extraTags": {"project": "other"}}, "extraTags", "must not override"),
    ({"extraTags": {"stack": "other"}}, "extraTags", "must not override"),
    ({"extraTags": {"managed-by": "terraform"}}, "extraTags", "must not override"),
    ({"extraTags": {"Name": "x"}}, "extraTags", "must not override"),
    ({"extraTags": {"kubernetes.io/cluster/x": "owned"}}, "extraTags", "must not override"),
    ({"extraTags": {"k" * 129: "v"}}, "extraTags", "1-128"),
    ({"extraTags": {"k": "v" * 257}}, "extraTags", "at most 256"),
    ({"extraTags": {"": "v"}}, "extraTags", "1-128"),
    ({"extraTags": {"k": "a|b"}}, "extraTags", "AWS tag rules"),
    ({"extraTags": {"k#": "v"}}, "extraTags", "AWS tag rules"),
    ({"extraTags": {f"t{i}": "v" for i in range(45)}}, "extraTags", "at most 44 entries"),
    ({"extraTags": {"Team": "a", "team": "b"}}, "extraTags", "letter case"),
    ({"extraTags": {"cost": 5}}, "extraTags", "quote numbers"),
    # unknown keys
    ({"clusterNam": "typo"}, "clusterNam", "did you mean clusterName"),
    ({"vpc_cidr": "10.0.0.0/16"}, "vpc_cidr", "unknown key"),
    ({"AZCOUNT": 3}, "AZCOUNT", "unknown key"),
]

# Every wrong YAML type (and the usual slips) for every key of a kind: (value, fragment of what is allowed).
GENERIC: dict[str, list[tuple[Any, str]]] = {
    "string": [([["a"]], "must be a string"), ({"a": "b"}, "must be a string"), (True, "must be a string"),
               (10**5000, "must be a string"), ([], "must be a string"), ("\t", "control characters"),
               ("a" * 5000, "at most 4096 characters"), ("\u00e9\u2028", "control characters"),
               ("x\r\n", "control characters")],
    "integer": [("1.5", "whole number"), (1.5, "whole number"), (True, "whole number"), (False, "whole number"),
                ("12abc", "whole number"), ("\u0663", "whole number"), (10**400, "whole number"),
                ("1" * 5000, "whole number"), ("2\n", "whole number"), (" 2", "whole number"),
                ([], "whole number"), ({}, "whole number"), (float("nan"), "whole number"),
                (float("inf"), "whole number"), (float("-inf"), "whole number"), (2**31, "whole number"),
                (-(2**31) - 1, "whole number"), ("0x10", "whole number"), ("1e3", "whole number"),
                (1e300, "whole number")],
    "boolean": [("yes", "true or false"), ("no", "true or false"), (1, "true or false"), (0, "true or false"),
                ("1", "true or false"), ([], "true or false"), ({}, "true or false"), ("true\n", "true or false"),
                ("TRUE ", "true or false"), (1.0, "true or false"), ("on", "true or false")],
    "array": [("not json", "list of strings"), ('"a"', "list of strings"), ({"a": "b"}, "list of strings"),
              ([1, 2], "list of strings"), ([["x"]], "list of strings"), ("[", "list of strings"),
              (5, "list of strings"), ("[" * 5000, "list of strings"), ([None], "list of strings"),
              ([True], "list of strings"), (["ok\n"], "control characters"), ("a" * 70000, "list of strings"),
              (["x"] * 1001, "at most 1000 entries")],
    "object": [(["a"], "map of string to string"), ("[]", "map of string to string"),
               ({"a": None}, "map of string to string"), ("{", "map of string to string"),
               (5, "map of string to string"), ({1: "x"}, "map of string to string"),
               ({"a": ["b"]}, "map of string to string"), ({"a\n": "b"}, "control characters"),
               ("{" * 5000, "map of string to string"), (True, "map of string to string")],
}

# Keys with their own parser (parse=): each parser says what its structure is.
CUSTOM: dict[str, list[tuple[Any, str]]] = {
    "ecsScheduledScaling": [
        ("not json", "must be a list of {name"), (5, "must be a list of {name"), (True, "must be a list of"),
        ({"a": "b"}, "must be a list of {name"), ([1], "must be a list of {name"), ([None], "must be a list"),
        ([{"name": "n"}], "must be a list of {name"), ("[" * 5000, "must be a list of {name"),
        ([{"name": "n", "schedule": "cron(0 1 ? * * *)", "minTasks": "0", "maxTasks": 1}], "whole numbers"),
        ([{"name": "N!", "schedule": "cron(0 1 ? * * *)", "minTasks": 0, "maxTasks": 1}], "lowercase")],
    "ecsStepScaling": [("not json", "must be {threshold, steps"), (5, "must be {threshold"), (True, "must be {thresh"),
                       ([1], "must be {threshold"), ({"threshold": 1500}, "must be {threshold"),
                       ("{" * 5000, "must be {threshold"), ({"threshold": 1, "steps": [], "x": 1}, "must be {thres"),
                       ({"threshold": "1500", "steps": [{"over": 0, "add": 1}]}, "threshold must be a whole"),
                       ({"threshold": 0, "steps": [{"over": 0, "add": 1}]}, "threshold must be a whole number"),
                       ({"threshold": 1500, "steps": []}, "steps must be a list of 1 to 5"),
                       ({"threshold": 1500, "steps": [{"over": 0}]}, "steps must be a list of 1 to 5"),
                       ({"threshold": 1500, "steps": [{"over": 5, "add": 1}]}, "the first `over` must be 0"),
                       ({"threshold": 1500, "steps": [{"over": 0, "add": 1}, {"over": 0, "add": 2}]}, "each next"),
                       ({"threshold": 1500, "steps": [{"over": 0, "add": 101}]}, "add must be a whole number"),
                       ({"threshold": 1500, "steps": [{"over": 0, "add": 1}] * 6}, "1 to 5"),
                       ({"threshold": 1500, "steps": [{"over": 0, "add": 1}], "cooldown": -1}, "cooldown must"),
                       ({"threshold": 1500, "steps": [{"over": 0, "add": 1}], "evaluationPeriods": 6},
                        "evaluationPeriods must be a whole number from 1 to 5")],
}


def generic_rows() -> list[Row]:
    return [({decl.key: value}, decl.key, fragment) for decl in settings()
            for value, fragment in (CUSTOM[decl.key] if decl.kind == "custom" else GENERIC[decl.kind])]


ROWS = SEMANTIC + generic_rows()


def refusal_problem(raw: dict[str, Any], key: str, allowed: str) -> str | None:
    """None when the loader refuses `raw` with a problem line that starts with `key` and explains `allowed`; else
    what is wrong (a value the loader accepts, or a crash, included)."""
    try:
        problems = problems_of(raw)
    except (pytest.fail.Exception, Exception) as err:  # DID NOT RAISE, or anything but a ConfigError
        return f"{type(err).__name__}: {err}"
    prefix = key if key.startswith("aws:") else f"webstack:{key}"
    matching = [p for p in problems if p == prefix or p.startswith((f"{prefix} ", f"{prefix}:"))]
    if not matching:
        return f"no problem starts with {prefix}: {problems}"
    if not any(allowed in p for p in matching):
        return f"{allowed!r} not explained in {matching}"
    if not all(len(p) < 800 for p in problems):
        return f"a problem line of 800 characters or more: {problems}"
    return None


# One test per key (the first one a row names): its rows are checked together and every failing row is listed.
# A test per row was 2,000 tests whose pytest and pytest-xdist bookkeeping cost five times the loader's own work.
BY_KEY: dict[str, list[Row]] = {}
for _row in ROWS:
    BY_KEY.setdefault(_row[1].split("/")[0], []).append(_row)


@pytest.mark.parametrize("key", BY_KEY)
def test_each_bad_input_is_refused_naming_its_key_and_what_is_allowed(key: str) -> None:
    failed = [f"{raw!r:.200} -> {problem}" for raw, named, allowed in BY_KEY[key]
              if (problem := refusal_problem(raw, named, allowed)) is not None]
    if failed:
        pytest.fail(f"{len(failed)} of {len(BY_KEY[key])} bad inputs of {key}:\n" + "\n".join(failed))


def _fingerprint(raw: dict[str, Any]) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, float) and v != v:
            return "nan"
        if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 1000:
            return f"int:{v.bit_length()}:{v % 1000003}"
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, list):
            return [norm(x) for x in v]
        return [type(v).__name__, v]

    return json.dumps(norm(raw), sort_keys=True)


def test_there_are_at_least_300_distinct_bad_inputs_over_every_key() -> None:
    distinct = {_fingerprint(raw) for raw, _, _ in ROWS}
    assert len(distinct) == len(ROWS), "a row is repeated"
    assert len(distinct) >= 300
    semantic = {_fingerprint(raw) for raw, _, _ in SEMANTIC}
    assert len(semantic) >= 250
    named = {key.split("/")[0] for _, key, _ in ROWS}
    assert {d.key for d in settings()} <= named
    assert "aws:region" in named


def test_a_problem_line_shows_at_most_about_100_characters_of_the_value() -> None:
    for value in ("x" * 4000, ["y" * 300] * 50, 10**4000, {"k" * 200: "v" * 200}):
        for key in ("natStrategy", "nodeInstanceTypes", "azCount", "extraTags"):
            for p in problems_of({key: value}):
                if p.startswith(f"webstack:{key} ="):
                    shown = p.split(" = ", 1)[1]
                    assert len(shown) < 100 + 200, p  # the value (<= 100) then what is allowed
                    assert "x" * 101 not in p and "y" * 101 not in p and "k" * 101 not in p


# YAML's own types and shapes: anchors that make a list or map contain itself, dates, binary, sets, octal...
YAML_DOCS = ["a: &x [*x]", "a: &x {k: *x}", "a: 2024-01-01", "a: !!binary aGVsbG8=", "a: !!set {x, y}",
             "a: 2024-01-01T10:00:00Z", "a: .inf", "a: -.nan", "a: 0o17", "a: 1_000", "a: 0x7fffffffffffffffff",
             "a: [[[[[[[[[[[[1]]]]]]]]]]]]", "a: {1: 2, null: z, true: x}", "a: !!float 1e400", "a: 'multi\n\n  line'"]


@pytest.mark.parametrize("doc", YAML_DOCS)
def test_yaml_native_values_for_every_key_load_or_are_refused_by_name(doc: str) -> None:
    import yaml

    value = yaml.safe_load(doc)["a"]
    for decl in settings():
        try:
            load_config({**VALID, decl.key: value}, project="webstack", stack="t", region="us-east-1")
        except ConfigError as err:
            assert all(decl.key in p.split(" ", 1)[0].removeprefix("webstack:").rstrip(":").split("/")
                       for p in err.problems), (decl.key, err.problems)
