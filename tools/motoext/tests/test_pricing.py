import json
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pricing-products.json"


def put_products(endpoint, products, deny=False):
    req = urllib.request.Request(f"{endpoint}/moto-api/motoext/pricing/products", method="POST",
                                 data=json.dumps({"products": products, "deny": deny}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201


@pytest.fixture
def products():
    return json.loads(FIXTURE.read_text())["products"]


@pytest.fixture
def pricing(aws, moto_endpoint, products):
    put_products(moto_endpoint, products)
    yield aws("pricing", "us-east-1")
    put_products(moto_endpoint, [])


def term(field, value):
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def test_filters_pick_the_product_and_the_price_list_is_json_strings(pricing):
    r = pricing.get_products(ServiceCode="AmazonElastiCache", FormatVersion="aws_v1", Filters=[
        term("regionCode", "eu-west-1"), term("productFamily", "Cache Instance"),
        term("instanceType", "cache.t4g.micro"), term("cacheEngine", "redis")])
    assert r["FormatVersion"] == "aws_v1"
    assert len(r["PriceList"]) == 1
    doc = json.loads(r["PriceList"][0])
    assert doc["product"]["sku"] == "8C2ZJ3QXW5M6A9YB"
    (offer,) = doc["terms"]["OnDemand"].values()
    (dim,) = offer["priceDimensions"].values()
    assert dim["pricePerUnit"]["USD"] == "0.0180000000"


def test_without_the_engine_filter_both_engines_match(pricing):
    r = pricing.get_products(ServiceCode="AmazonElastiCache", Filters=[term("instanceType", "cache.t4g.micro")])
    engines = sorted(json.loads(p)["product"]["attributes"]["cacheEngine"] for p in r["PriceList"])
    assert engines == ["Redis", "Valkey"]


def test_another_service_code_or_region_matches_nothing(pricing):
    assert pricing.get_products(ServiceCode="AmazonS3", Filters=[])["PriceList"] == []
    r = pricing.get_products(ServiceCode="AWSLambda", Filters=[term("regionCode", "ap-south-2")])
    assert r["PriceList"] == []


def test_pages_follow_max_results(pricing):
    first = pricing.get_products(ServiceCode="AWSLambda", MaxResults=1)
    assert len(first["PriceList"]) == 1 and first["NextToken"]
    second = pricing.get_products(ServiceCode="AWSLambda", MaxResults=1, NextToken=first["NextToken"])
    assert len(second["PriceList"]) == 1 and "NextToken" not in second
    assert first["PriceList"] != second["PriceList"]


def test_deny_answers_access_denied(aws, moto_endpoint, products):
    put_products(moto_endpoint, products, deny=True)
    try:
        with pytest.raises(ClientError) as e:
            aws("pricing", "us-east-1").get_products(ServiceCode="AWSLambda")
        assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    finally:
        put_products(moto_endpoint, [])


def test_other_filter_types_are_refused(pricing):
    with pytest.raises(ClientError) as e:
        pricing.get_products(ServiceCode="AWSLambda", Filters=[{"Type": "CONTAINS", "Field": "group", "Value": "Lambda"}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
