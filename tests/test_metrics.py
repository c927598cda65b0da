"""The measures the benchmarks report: numbers compared in their spoken form."""

from __future__ import annotations

from tests.support.metrics import cer, spoken_numbers


def test_numbers_are_compared_as_they_are_spoken() -> None:
    assert spoken_numbers("前方即将到达8号线") == "前方即将到达八号线"
    assert spoken_numbers("92年回到中国") == "九二年回到中国"  # years digit by digit
    assert spoken_numbers("罚款15万元，整改期限10日，共105人，1000元，1005，110") == (
        "罚款十五万元，整改期限十日，共一百零五人，一千元，一千零五，一百一十"
    )
    said = "电话一三八八二六七四八三四，二点五吨，编号零零七"
    assert spoken_numbers("电话13882674834，2.5吨，编号007") == said
    assert spoken_numbers("二零一九年三月") == "二零一九年三月"  # already spoken: unchanged
    # a transcript that wrote the digit and a reference that wrote the word now agree
    assert cer(spoken_numbers("沈杜公路站左边是八号线"), spoken_numbers("沈杜公路站左边是8号线")) == 0
