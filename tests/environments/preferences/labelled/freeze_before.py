"""Freeze the readings of the parsers as they were at commit c153992, before any change.

Run once at that commit (it calls the old parse_choice / parse_recommendation / classify_refusal /
parse_ranking / extract_answer / grade); kept for the record, it need not run on later commits.
Old readings map to statuses as the old code treated them: a pair with no letter was "no choice"
(here: unparsed), an advice reply without a recommendation was a refusal, an empty ranking was
unparsed (the ranking ρ became n/a), a QA reply with nothing after "Answer:" was declined and graded wrong.
"""
from environments.preferences import prompts, qa_bank
from environments.preferences.entities import all_entities
from environments.preferences.labelled import load
from environments.preferences.parser_quality import BEFORE, Reading
from environments.preferences.refusals import classify_refusal

by_id = {e.id: e for e in all_entities()}
items = {i.id: i for i in qa_bank.generated_bank()}
out = []
for c in load():
    if c.task == "pair":
        ch = prompts.parse_choice(c.text, by_id[c.a], by_id[c.b])
        r = Reading(id=c.id, status="answered" if ch else "unparsed", choice=ch)
    elif c.task == "advice":
        ch = prompts.parse_recommendation(c.text, by_id[c.a], by_id[c.b])
        r = Reading(id=c.id, status="answered" if ch else "refused", choice=ch,
                    reason=None if ch else classify_refusal(c.text))
    elif c.task == "ranking":
        rk = prompts.parse_ranking(c.text, [by_id[i] for i in c.listing])
        r = Reading(id=c.id, status="answered" if rk else "unparsed", ranking=rk)
    else:
        item = items[c.item]
        got = qa_bank.extract_answer(c.text)
        matches = None
        if got is not None:
            matches = c.answer is not None and qa_bank.grade(item.model_copy(update={"answer": c.answer}), c.text)
        r = Reading(id=c.id, status="declined" if got is None else "answered", answer_matches=matches,
                    correct=qa_bank.grade(item, c.text))
    out.append(r.model_dump_json())
BEFORE.write_text("\n".join(out) + "\n")
print(len(out))
