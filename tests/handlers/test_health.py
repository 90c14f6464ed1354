from __future__ import annotations

import importlib


def test_health_answers_ok(api) -> None:
    reply = api.get("/health")
    assert reply.status == 200 and reply.body == {"status": "ok"}


def test_every_handler_path_in_the_plan_points_at_real_code(function_env, synth) -> None:
    functions = synth.stage("dev")["resource"]["aws_lambda_function"].values()
    assert len(functions) == 9
    for fn in functions:
        function_env(fn["function_name"].split("-", 3)[-1])
        module_name, _, attribute = fn["handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), fn["handler"]


def test_the_faster_moto_transactions_stay_all_or_nothing(tables) -> None:
    import boto3
    from botocore.exceptions import ClientError

    # Given one existing lead
    client = boto3.client("dynamodb")
    [leads] = [t for t in tables if t.endswith("-leads")]
    client.put_item(TableName=leads, Item={"id": {"S": "a"}, "status": {"S": "new"}})
    # When a transaction writes a new lead and updates the first under a condition that fails
    try:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": leads, "Item": {"id": {"S": "b"}, "status": {"S": "new"}}}},
            {"Update": {"TableName": leads, "Key": {"id": {"S": "a"}}, "UpdateExpression": "SET #s = :v",
                        "ConditionExpression": "#s = :old", "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":v": {"S": "valid"}, ":old": {"S": "risky"}}}}])
        raise AssertionError("the transaction should have been cancelled")
    except ClientError as error:
        reasons = [r["Code"] for r in error.response["CancellationReasons"]]
    # Then it is cancelled with the failing item named, and nothing was written
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in client.get_item(TableName=leads, Key={"id": {"S": "b"}})
    assert client.get_item(TableName=leads, Key={"id": {"S": "a"}})["Item"]["status"] == {"S": "new"}
