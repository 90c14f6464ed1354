import pytest

from modules.naming import Naming


def test_names_follow_the_project_pattern() -> None:
    assert Naming(stage="prod").name("send-email") == "pivotr-mailer-prod-send-email"


@pytest.mark.parametrize("bad", ["", "Send", "send email"])
def test_bad_name_parts_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Naming(stage="dev").name(bad)


def test_tags_carry_project_environment_and_cost_center() -> None:
    assert Naming(stage="dev", cost_center="growth").tags == {
        "Project": "pivotr-mailer",
        "Environment": "dev",
        "CostCenter": "growth",
        "ManagedBy": "cdktf",
    }
