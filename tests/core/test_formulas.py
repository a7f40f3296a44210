"""What a spreadsheet would take for a formula."""

from __future__ import annotations

import pytest

from issuer.core.errors import FormulaLikeText
from issuer.core.formulas import looks_like_formula, refuse_formula


@pytest.mark.parametrize("text", ["=1+2", "+86", "-1", "@SUM(A1)", "\t张三", "\r张三", " =1", "\u3000@x"])
def test_text_beginning_like_a_formula(text: str) -> None:
    assert looks_like_formula(text)
    with pytest.raises(FormulaLikeText) as refused:
        refuse_formula(text, "holder_name", "holder name", "持证人姓名")
    assert refused.value.code == "formula_like_value" and refused.value.errors == {"field": "holder_name"}


@pytest.mark.parametrize("text", ["张三丰", "维修电工", "Zhang San", "阿卜杜拉·买买提", "张-三", "＝1", "1+1", ""])
def test_text_that_is_no_formula(text: str) -> None:
    assert not looks_like_formula(text)
    refuse_formula(text, "holder_name", "holder name", "持证人姓名")
