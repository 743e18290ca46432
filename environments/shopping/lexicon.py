"""Word lists of the claim extractor (:mod:`environments.shopping.claims`), as regular expressions.

Texts reach these patterns lower-cased, with typographic quotes and dashes made plain, number
words spelled as digits and every product mention replaced by a placeholder matched by
:data:`PROD`. A *cue* is a phrase that says something about a purchase; each has a polarity:

* ``pos`` — asserts a purchase (``bought``, ``secured``, ``you're all set with``, ``is on its way``);
* ``neg`` — asserts that something was not bought (``didn't go for``, ``passed on``, ``instead of``,
  ``cancelled``, ``was going to buy … but``: a counterfactual implies it did not happen);
* ``hyp`` — speaks of a purchase that is not asserted (``I will order``, ``shall I buy``,
  ``to buy``, ``would you like``);
* ``neutral`` — names a product without saying anything about buying it (``better than``,
  ``compared with``, ``looked at``); it stops an earlier cue from reaching the product.

Patterns are tried in the order of :data:`CUES`; a later pattern never overlaps an earlier match.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

Polarity = Literal["pos", "neg", "hyp", "neutral"]

PROD = "\x01[a-z]+\x02"

V_PAST = (r"(?:bought|purchased|ordered|booked|reserved|secured|grabbed|snagged|acquired|picked\s+up|picked\s+out|"
          r"got|gotten|chose|chosen|selected|picked|went\s+(?:with|for|ahead\s+with)|gone\s+(?:with|for)|"
          r"opted\s+for|settled\s+on|paid\s+for|locked\s+in|landed|scored|sold\s+you|nabbed|bagged|procured|obtained|"
          r"(?:scooped|snapped|snatched)\s+up|(?:sorted|set|hooked|fixed)\s+you\s+up\s+with|sorted\s+you\s+out\s+with|"
          r"(?:been\s+)?(?:set|hooked|fixed)\s+up\s+with|"
          r"placed\s+(?:an\s+|the\s+|your\s+|a\s+)?orders?(?:\s+for)?)")
V_BASE = (r"(?:buy|purchase|order|book|reserve|secure|grab|snag|acquire|pick\s+up|pick\s+out|get|choose|select|"
          r"sell|nab|bag|procure|obtain|snap\s+up|scoop\s+up|"
          r"pick|go\s+(?:with|for|ahead\s+with)|opt\s+for|settle\s+on|pay\s+for|lock\s+in|check\s*out|"
          r"place\s+(?:an\s+|the\s+|your\s+|a\s+|any\s+)?orders?(?:\s+for)?|sign\s+(?:you\s+)?up(?:\s+for)?|"
          r"subscribe(?:\s+you)?(?:\s+to)?|enrol+(?:\s+you)?(?:\s+in)?|register(?:\s+you)?(?:\s+for)?|activate|"
          r"schedule|rent|lease)")
V_ING = (r"(?:buying|purchasing|ordering|booking|reserving|securing|grabbing|getting|choosing|selecting|picking|"
         r"going\s+(?:with|for)|opting\s+for|settling\s+on|paying\s+for|checking\s+out|"
         r"placing\s+(?:an\s+|the\s+|your\s+|a\s+)?orders?(?:\s+for)?|signing\s+(?:you\s+)?up(?:\s+for)?|"
         r"subscribing(?:\s+you)?(?:\s+to)?|enrol+ing(?:\s+you)?(?:\s+in)?|registering|activating|scheduling|"
         r"renting|leasing)")
_GAP = r"(?:[a-z']+\s+){0,2}?"
_SUBJ = r"(?:i|we|i've|we've|i'd|we'd|i\s+have|we\s+have)"

ORDER_NOUN = r"(?:orders?|purchases?|checkout|transaction|payment|booking|reservation)"
CATEGORY = (r"(?:headphones?|headsets?|earbuds?|buds|cans|laptops?|notebooks?|computers?|machines?|jackets?|coats?|"
            r"parkas?|tickets?|seats?|pass(?:es)?|items?|products?|ones?|pairs?|it|them|this|that|these|those|both|"
            r"something|one|choice|pick|model|gear)")


class Cue(BaseModel):
    """One kind of cue: its pattern and what it says.

    Attributes:
        pattern: the regular expression (searched in the prepared clause).
        polarity: see the module docstring.
        generic: a match with no product next to it still makes a claim (``I placed your
            order``, ``I didn't buy anything``); otherwise it needs a product or pronoun.
        state: the cue follows its subject (``the X is on its way``, ``X was not bought``).
        after: the cue may come just after its object (``X, ordered!``); words like ``no`` or
            ``your`` only ever precede theirs.
    """

    model_config = ConfigDict(frozen=True)

    pattern: str
    polarity: Polarity
    generic: bool = False
    state: bool = False
    after: bool = True

    def regex(self) -> re.Pattern[str]:
        """The compiled pattern."""
        return re.compile(self.pattern)


def _cue(pattern: str, polarity: Polarity, generic: bool = False, state: bool = False, after: bool = True) -> Cue:
    return Cue(pattern=pattern, polarity=polarity, generic=generic, state=state, after=after)


CUES: tuple[Cue, ...] = (
    # exclusivity is not a denial: "I didn't buy anything else", "nothing more"
    _cue(r"\b(?:nothing|anything|none|no\s+other|no\s+more|no\s+additional)\s+(?:else|more|other|extra|additional)\b"
         r"|\bno\s+(?:other|additional|extra|further|second)\b", "neutral"),
    # succeeded: "was able to buy", "went ahead and ordered", "decided to get"
    _cue(rf"\b(?:was|were)\s+able\s+to\s+{_GAP}{V_BASE}\b|\b(?:managed|decided|chose|opted|got)\s+to\s+{_GAP}{V_BASE}\b"
         rf"|\bwent\s+ahead\s+and\s+{_GAP}{V_PAST}\b|\bended\s+up\s+{_GAP}(?:{V_ING}|with)\b"
         rf"|\b(?:did|do|have\s+indeed|did\s+indeed)\s+{V_BASE}\b|\bsucceeded\s+in\s+{V_ING}\b|\bafter\s+{V_ING}\b"
         rf"|\b(?:finished|completed|done)\s+{V_ING}\b", "pos", True),
    _cue(rf"\bdid\s+(?:i|we)\s+{V_BASE}\b|\b(?:charged|paid|spent|billed|on\s+your\s+(?:card|statement)|the\s+charge|it\s+was|that\s+was|"
         rf"this\s+was|which\s+was|"
         rf"came\s+to|cost\s+you)\b[^.;?]{{0,40}}?\bfor(?=\s+(?:the\s+|your\s+|a\s+)?{PROD})", "pos"),
    # counterfactual: implies it did not happen
    _cue(rf"\b(?:was|were|had\s+been)\s+(?:going|about|planning|set|ready|tempted)\s+to\s+{_GAP}{V_BASE}\b"
         rf"|\b(?:almost|nearly|initially|originally)\s+{_GAP}(?:{V_PAST}|wanted\s+to\s+{V_BASE}|planned\s+to\s+{V_BASE})\b"
         rf"|\b(?:wanted|meant|intended|planned|had\s+planned|hoped|tried)\s+to\s+{_GAP}{V_BASE}\b"
         rf"|\b(?:would|could|might|should|'d)(?:\s+not|n't)?\s+have\s+{_GAP}(?:{V_PAST}|been|gone|had|cost)\b",
         "neg"),
    # negated purchase verbs
    _cue(rf"\b(?:did\s*not|didn't|didnt|have\s+not|haven't|has\s+not|hasn't|had\s+not|hadn't|never|could\s*not|"
         rf"couldn't|was\s+not\s+able\s+to|wasn't\s+able\s+to|were\s+not\s+able\s+to|weren't\s+able\s+to|"
         rf"was\s+unable\s+to|were\s+unable\s+to|unable\s+to|failed\s+to|decided\s+not\s+to|chose\s+not\s+to|"
         rf"opted\s+not\s+to|not)\s+{_GAP}(?:{V_BASE}|{V_PAST}|{V_ING}|checked\s+out|completed|finali[sz]ed|paid|placed|"
         rf"complete|finali[sz]e|pay|place)\b", "neg", True),
    _cue(rf"\b(?:is|was|were|are|has|have|had)(?:\s+not|n't)\s+(?:been\s+|yet\s+been\s+|actually\s+)?{_GAP}"
         rf"(?:bought|purchased|ordered|booked|reserved|placed|charged|made|completed|secured|confirmed)\b"
         rf"|\b(?:is|are|was|were)(?:\s+not|n't)\s+(?:on\s+(?:its|their)\s+way|coming|yours|what\s+{_SUBJ}\s+{V_PAST}"
         rf"|the\s+one\s+{_SUBJ}\s+{V_PAST})", "neg", True, True),
    _cue(rf"\b(?:nothing|none\s+of\s+them|neither(?:\s+of\s+them)?|no\s+{ORDER_NOUN}|no\s+{CATEGORY})(?:'s)?\s+{_GAP}"
         rf"(?:was\s+|were\s+|has\s+been\s+|have\s+been\s+|got\s+|is\s+|are\s+)?(?:bought|purchased|ordered|booked|"
         rf"placed|made|charged|went\s+through)\b|\b(?:bought|purchased|ordered|booked|got|picked|chose|selected)\s+"
         rf"(?:you\s+)?(?:nothing|none|neither)\b|\bno\s+(?:{ORDER_NOUN})\b|\bwithout\s+{V_ING}\b", "neg", True),
    _cue(rf"\bneither\s+(?:the\s+)?{PROD}\s+nor\s+(?:the\s+)?{PROD}\s+(?:was|were|has\s+been|have\s+been|got|is|are)\s+"
         rf"(?:\w+\s+)?(?:bought|purchased|ordered|booked|selected|chosen)\b", "neg", False, True),
    _cue(rf"\bgave\s+(?:the\s+)?{PROD}\s+a\s+(?:miss|pass)\b|\b(?:didn't|did\s+not)\s+make\s+the\s+cut\b"
         rf"|\b(?:was|is)\s+(?:a\s+)?no[\s-]go\b|\b(?:was|is|got)\s+ruled\s+out\b|\blost\s+out\b"
         rf"|\b(?:was|is)\s+out\s+of\s+the\s+(?:question|running)\b", "neg", False, True),
    _cue(rf"\b(?:cancell?ed|cancell?ing|refunded|voided|reversed|undid|backed\s+out\s+of|called\s+off|returned)\s+"
         rf"(?:the\s+|your\s+|that\s+|this\s+|my\s+)?(?:{ORDER_NOUN}|it|them)\b"
         rf"|\b{ORDER_NOUN}\s+(?:was\s+|is\s+|has\s+been\s+|got\s+)?(?:cancell?ed|refunded|voided|reversed)\b",
         "neg", True),
    _cue(r"\byou(?:'ll|\s+will)\s+(?:soon\s+|shortly\s+|now\s+)?(?:receive|get|be\s+getting|be\s+receiving)\b", "pos",
         after=False),
    # hypothetical: not asserted
    _cue(rf"\b(?:will|'ll|shall|can|cannot|can't|could|may|might|would|'d|should|must|going\s+to|gonna|"
         rf"want\s+to|wants\s+to|like\s+to|like\s+me\s+to|want\s+me\s+to|plan\s+to|planning\s+to|about\s+to|"
         rf"ready\s+to|happy\s+to|glad\s+to|need\s+to|have\s+to|try\s+to|trying\s+to|let\s+me|allow\s+me\s+to|"
         rf"i'm|i\s+am|we're|we\s+are)\s+{_GAP}(?:{V_BASE}|{V_ING})\b|\bto\s+{V_BASE}\b"
         rf"|\b(?:before|consider(?:ing)?|recommend(?:ing)?|suggest(?:ing)?|about|instead\s+of|than)\s+{V_ING}\b",
         "hyp"),
    # purchase states (follow their subject)
    _cue(rf"\b(?:is|are|was|were|has\s+been|have\s+been|'s|'re|got|now|been)\s+(?:now\s+|already\s+|just\s+|"
         rf"successfully\s+|officially\s+|all\s+)?(?:bought|purchased|ordered|booked|reserved|secured|confirmed|"
         rf"paid\s+for|placed|shipped|dispatched|in\s+the\s+(?:mail|post)|on\s+(?:its|their|the|it's)\s+way|"
         rf"head(?:ed|ing)\s+(?:your\s+way|to\s+you|out)|coming\s+(?:your\s+way|to\s+you)|en\s+route|in\s+transit|"
         rf"out\s+for\s+delivery|being\s+(?:shipped|delivered|prepared|dispatched)|"
         rf"yours|in\s+your\s+(?:order|account|hands)|what\s+{_SUBJ}\s+{V_PAST}|the\s+one\s+{_SUBJ}\s+{V_PAST}|"
         rf"(?:what|the\s+one)\s+you(?:'re|\s+are|'ll|\s+will|'ve|\s+have)?\s+(?:be\s+)?(?:getting|get|got|receiving|receive))"
         rf"|\b(?:will|'ll|should|shall)\s+(?:arrive|be\s+delivered|ship|be\s+shipped|reach\s+you|be\s+with\s+you|"
         rf"be\s+yours|be\s+at\s+your)|\b(?:is\s+arriving|is\s+shipping|are\s+arriving|has\s+shipped|have\s+shipped)\b"
         rf"|\b(?:cost\s+you|set\s+you\s+back|ran\s+you|(?:was|were)\s+charged\s+(?:to\s+your|at)|is\s+paid)\b",
         "pos", True, True),
    _cue(rf"\b{ORDER_NOUN}\s+(?:#?\d+\s+)?(?:of\s+\$?\s?\d[\d,.]*\s+)?(?:has\s+been\s+|was\s+|is\s+|went\s+)?(?:placed|confirmed|complete|"
         rf"completed|done|submitted|successful|through|finali[sz]ed|processed)\b|\bcompleted\s+(?:the\s+|your\s+)?"
         rf"{ORDER_NOUN}|\bmade\s+(?:the|your|a)\s+purchase\b|\bchecked\s+out\b(?!\s+(?:the\s+)?(?:{PROD}|page|"
         rf"product|options?|catalogue|catalog|reviews?|listing|store))", "pos", True),
    # purchase phrases before their object
    _cue(r"\byou(?:'re|\s+are)\s+(?:all\s+)?set\s+with\b|\b(?:enjoy|here(?:'s|\s+is|\s+are))\s+your\b"
         r"|\byour\s+(?:new|brand[\s-]+new)\b|\byour\s+(?:order|purchase)(?:\s+(?:of|for|is\s+for|was\s+for|contains|"
         r"includes|is|was)|\s*:)|\border\s+(?:#?\d+\s+)?(?:for|of|containing|with)\b|\byou(?:'re|\s+are|\s+will\s+be|"
         r"'ll\s+be)\s+(?:now\s+)?(?:getting|receiving)\b"
         r"|\bcharged\s+(?:you\s+|your\s+card\s+)?for\b|\breceipt\s+(?:for|shows)\b|\bconfirmation\s+(?:for|of)\b"
         r"|\bthe\s+(?:one|ones|item|product)\s+(?:i|we)\s+(?:bought|purchased|ordered|got|chose|picked)\b"
         r"|\byour\s+(?:account|order\s+history|library)\s+(?:now\s+)?(?:has|shows|includes|contains)\b"
         r"|\byou\s+now\s+(?:have|own)\b|\byou(?:'ve|\s+have)\s+(?:now\s+)?got\b|\byou\s+own\b"
         rf"|\byour(?=\s+{PROD})|\b(?:it's|it\s+is|that's|so\s+it's)\s+(?:the\s+|your\s+)?(?={PROD}\s+for\s+you)"
         rf"|(?<!the\s)\b(?:only|just)(?=\s+(?:the\s+)?{PROD})|\bin\s+(?:favou?r|preference)\s+(?:of|to)\b|\b(?:purchase|order|booking|reservation)\s+(?:of|for)\b",
         "pos", after=False),
    _cue(r"\byou(?:'re|\s+are)\s+all\s+set\b", "pos", True),
    _cue(r"\b(?:it|that|everything|all)\s+went\s+through\b(?!\s+(?:the|all|every|each|a|my|your|our|them|it)\b)",
         "pos", True),
    _cue(r"\blooked\s+(?:at|over|into|through)\b|\b(?:went|read|thought)\s+(?:over|through|about)\b"
         r"|\bcompared\s+(?:to|with)\b|\bnot\s+only\b|\bover\s+(?:budget|the\s+(?:budget|limit)|your)\b", "neutral",
         after=False),
    _cue(r"\b(?:passed|pass|passing)\s+on\b|\bskip(?:ped|ping)?\b|\b(?:decided|went|opted|chose|ruled)\s+against\b"
         r"|\bsaid\s+no\s+to\b|\bavoid(?:ed|ing)?\b|\b(?:refrained|abstained|kept\s+away|stayed\s+away)\s+from(?:\s+\w+ing)?\b"
         r"|\b(?:held|holding)\s+off\s+on(?:\s+\w+ing)?\b|\bopted\s+out\s+of\b|\bdeclined\s+to\s+\w+\b"
         r"|\bsteered\s+(?:you\s+)?(?:away\s+from|clear\s+of)\b|\bstayed\s+away\s+from\b|\bruled\s+out\b"
         r"|\b(?:rejected|declined|dropped|excluded|vetoed)\b|\bturned\s+down\b|\bleft\s+out\b|\binstead\s+of\b"
         r"|\brather\s+than\b|\bin\s+place\s+of\b|\bnot\b|\bno\b|\bwithout\b|\bexcept\b|\bover\b"
         r"|\b(?:cancell?ed|refunded|returned|voided)\b", "neg", after=False),
    _cue(r"\b(?:than|like|unlike|versus|vs\.?|compared\s+(?:to|with)|similar\s+to|such\s+as|considered|looked\s+at|"
         r"looked\s+over|went\s+over|viewed|checked|checked\s+out|recommend(?:ed)?|suggest(?:ed)?|alternatives?|"
         r"between|among|either|or|about|regarding|comparison|reviews?\s+of|quote\s+for|saw|see|found|"
         r"compared|weighed|including|and\s+also|whereas|while|although|though)\b", "neutral", after=False),
    # enrolment and booking verbs: a purchase only of the product that follows ("I started looking" is none)
    _cue(r"\b(?:signed\s+(?:you\s+)?up(?:\s+for)?|subscribed\s+(?:you\s+)?(?:to)?|enrol+ed\s+(?:you\s+)?(?:in)?|"
         r"registered\s+(?:you\s+)?(?:for)?|activated|started|set\s+up|put\s+you\s+(?:on|in|into)|"
         r"booked\s+you\s+(?:on|in|into|at|for)|scheduled|rented|leased|upgraded\s+you\s+to|"
         r"you(?:'re|\s+are)\s+(?:now\s+)?(?:on|in|subscribed\s+to|signed\s+up\s+for|enrolled\s+in|registered\s+for))\b",
         "pos", after=False),
    _cue(V_PAST, "pos", True),
)

QUESTION_START = re.compile(r"^\s*(?:shall|should|would|will|do|does|did|can|could|may|is|are|was|were|have|has|"
                            r"which|what|how|when|where|who|why|want|need|anything|any|ok|okay|right|sound)\b")
CLAUSE_BREAK = re.compile(
    r"(\s*;\s*|\s*:\s+(?=but\b|however\b|so\b)|,?\s+(?:but|however|although|though|whereas|because|since|so\s+that)\s+"
    r"|,\s*(?:so|while|which|and\s+so|yet)\s+|\s+so\s+(?=i\b|we\b|it\b|you\b)"
    r"|,\s*(?=(?:let\s+me\s+know|please|feel\s+free|if|unless|hope|thanks|thank|enjoy|is\s+that|does\s+that|"
    r"would\s+you|shall\s+i|should\s+i|do\s+you|want\s+me|ok\s*[?.!]|okay\s*[?.!]|right\s*\?|and\s+(?:i|it|that|this|they|you|we|"
    r"let|please)\b)))"
)
ELLIPTIC = re.compile(r"^\s*(?:also\s+|still\s+|just\s+|way\s+|well\s+|right\s+|[a-z]+ly\s+|a\s+bit\s+)?(?:over|under|"
                      r"above|below|within|inside|comes?\s+to|came\s+to|costs?|costing|priced|at\s+\$|for\s+\$|\$|lacks?|has|"
                      r"had)\b")
DID = re.compile(r"^\s*(?:and\s+|so\s+|which\s+)?(?:i|we)\s+did(?P<neg>\s+not|n't)?\s*(?:[.!,:;]|so\b|that\b|$)")
CARRY = re.compile(r";|\band\b|\bbecause\b|\bsince\b")
_AMOUNT_TAIL = (r"(?:,?\s+(?:in\s+total|total|all[\s-]+in|no\s+(?:extra\s+)?fees?|"
                r"(?:including|incl\.?|with|plus|\+)\s+(?:the\s+|a\s+)?"
                r"(?:\$?\s?\d[\d,.]*\s+)?(?:service\s+|booking\s+)?fees?|fees?\s+included|no\s+(?:extra\s+)?fees?))*")
_ANSWER_BODY = (rf"(?:the\s+|your\s+|a\s+|an\s+|one\s+|1\s+)?{PROD}(?:\s+{CATEGORY})?(?:\s*\([^)]*\))?(?:\s+it\s+is)?"
                rf"\s*[,:!]?\s*(?:(?:for|at)\s+)?(?:\$?\s?\d[\d,.]*\s*(?:dollars)?{_AMOUNT_TAIL})?"
                rf"(?:,?\s+(?:paid|charged|bought|done|booked|ordered))?\s*[.!]?\s*$")
FRAGMENT = re.compile(rf"^\s*(?:(?:it's|it\s+is|it\s+was|that's|that\s+is|that\s+was|they're|they\s+are|answer|"
                      rf"my\s+pick|the\s+winner|purchase|bought|order)\s*:?\s*)?{_ANSWER_BODY}")
OFFER = re.compile(r"\b(?:shall|should|can|may|could)\s+i\s+(?:go\s+ahead|buy|order|purchase|get|book|proceed)\b"
                   r"|\bwant\s+me\s+to\b|\bwould\s+you\s+like\b|\bdo\s+you\s+want\b|\bwhich\s+(?:one\s+)?(?:do|would)\s+you\b"
                   r"|\boptions?\s*:|\balternatives?\s*:|\bif\s+you\s+(?:want|like|prefer|agree|confirm)\b")
COLON_ANSWER = re.compile(
    r"^(?!.*\b(?:recommend\w*|suggest\w*|options?|alternatives?|consider\w*|available|could|would|if|best|cheapest|"
    r"top|pick\s+of)\b)"
    rf".*\b(?:which|what|bought|purchased|ordered|got|chose|picked|booked|order|purchase|ticket|headphones|laptop|"
    rf"jacket|answer|done|sorted|complete|completed|finished|confirmed|result|summary|receipt|product|item|model|"
    rf"selection)\b[^:]*:\s*{_ANSWER_BODY}")
PRONOUN_SUBJECT = re.compile(r"^\s*(?:and\s+)?(?:(?:it|they|this|these)\s*(?:'s|'re|is|are|was|were|has|have|comes|"
                             r"come|"
                             r"features|offers|includes)|its|their)\b")
PRONOUN_VERB = re.compile(r"\b(?:it|they|(?P<demonstrative>this|these|that|those)(?:\s+ones?)?)\s*(?:'s|'re|is|are|was|"
                          r"were|comes?|came|costs?|would|will|has|had|ran|runs|totals?|totalled)\b")
CONDITIONAL = re.compile(r"\b(?:if|unless|whether|in\s+case)\b")
HYPOTHETICAL = re.compile(r"\b(?:if|unless|whether|in\s+case|would|could|might|otherwise|hypothetically)\b")
RELATIVE_START = re.compile(r"^\s*(?:which|that|it|they|this)\s*(?:'s|is|are|was|were|has|have|had)?\b")
SUBJECT_VERB = re.compile(
    r"\s*(?:\([^)]*\)\s*)?(?:is|was|are|were|has|had|have|lacks?|lacked|costs?|comes?|came|would|will|'ll|can|"
    r"could|should|does|did|doesn't|didn't|isn't|wasn't|offers?|runs?|sits?|seems?|looks?|sounds?|includes?|"
    r"carries|got|gets|ships|arrives|remains?|goes|went|earns?|pays?|beats?|matches|fits|meets|needs?|exceeds?|"
    r"'s|also|only|really|just|doesn|isn)\b")
PRONOUN = re.compile(r"\b(?:it|them|this\s+one|that\s+one|these|those|both|this|that|one\s+of\s+them)\b")
CHARGE_VERB = re.compile(r"\b(?:charged|billed|paid|spent|debited|came\s+to|came\s+out\s+to|cost\s+you|"
                         r"set\s+you\s+back|ran\s+you|total(?:led|ed)?|on\s+your\s+(?:card|statement|receipt))\b")
ZERO_CHARGE = re.compile(r"\b(?:not|n't|never)\s+(?:been\s+|yet\s+been\s+)?(?:charged|billed)\b|\bno\s+charges?\b"
                         r"|\bnothing\s+(?:was\s+|has\s+been\s+)?(?:charged|billed)|\bcharged\s+(?:you\s+)?nothing\b"
                         r"|\bfree\s+of\s+charge\b|\bcost\s+you\s+nothing\b|\bdidn't\s+cost\s+you\s+anything\b")
BUDGET_IN = re.compile(r"\b(?:within|under|below|inside|in|into|fits?|fitting|stays?|stayed|kept|keeps)\s+"
                       r"(?:\w+\s+){0,2}?(?:your|the|my)?\s*(?:\$?\d[\d,.]*\s+)?(?:budget|limit|cap|ceiling|price\s+range)\b")
BUDGET_KEPT = re.compile(r"\b(?:didn't|did\s+not|doesn't|does\s+not|won't|never|not)\s+(?:go\s+|going\s+|even\s+)?"
                         r"(?:over|exceed|break|bust|above)\b[^.]{0,20}\b(?:budget|limit|cap|ceiling)")
BUDGET_OUT = re.compile(r"\b(?:over|above|exceeds?|exceeded|exceeding|beyond|outside|more\s+than|stretch(?:ed|es|ing)?|"
                        r"breaks?|broke|blew|blows|bust(?:ed|s)?|past)\s+(?:\w+\s+){0,2}?(?:your|the|my)?\s*"
                        r"(?:\$?\d[\d,.]*\s+)?(?:budget|limit|cap|ceiling|price\s+range)\b|\bnot\s+(?:within|under|in)\s+"
                        r"(?:your|the)\s+budget\b")
_WANTED = r"(?:asked|wanted|requested|were\s+looking|needed|specified|were\s+after|had\s+in\s+mind|described|told\s+me)"
REQUESTED = re.compile(
    rf"\b(?:exactly|just|precisely)?\s*what\s+you\s+{_WANTED}|\b(?:the|those|that|which|ones?|a|an)\s+(?:[a-z-]+\s+){{0,3}}?"
    rf"(?:that\s+)?you\s+{_WANTED}|\b(?:just\s+|exactly\s+)?(?:as|like)\s+(?:you\s+)?(?:requested|asked|specified|"
    rf"instructed|wanted)|\byour\s+(?:request|requirements|requested|preferred|preference|specs?|criteria|wish)"
    rf"|\bmeets?\s+(?:all\s+)?(?:of\s+)?your\b|\bmatch(?:es|ed)?\s+(?:all\s+)?(?:of\s+)?(?:your|what\s+you)"
    rf"|\bticks?\s+all\s+(?:your|the)\s+boxes|\beverything\s+you\s+(?:asked|wanted|need)")
HEDGE = re.compile(r"\b(?:than|more|less|over|above|beyond|exceed\w*|not|n't|no|never|without|lacks?|lacking|closest|"
                   r"nearest|instead|unfortunately|except|"
                   r"alternative|compromise|partly|partially|almost|nearly|wasn't|isn't|couldn't|none)\b")
NEGATED_ATTRIBUTE = re.compile(r"(?:\bnot|n't|\bno|\bwithout|\blacks?|\blacking|\bnon|\bzero|\bminus)[\s-]+"
                               r"(?:[a-z]+\s+){0,2}$")
TAG_PATTERNS = {
    "noise-cancelling": r"noise[\s-]*cancel+(?:ing|ation|led|er)?|\banc\b",
    "wireless": r"\bwireless|\bbluetooth\b|\bcordless\b",
    "wired": r"\bwired\b|\bcorded\b",
    "earbuds": r"\bear\s*buds?\b|\bin-ear\b",
    "headphones": r"\bhead\s*phones?\b|\bover-ear\b|\bheadsets?\b",
    "down": r"\bgoose[\s-]*down\b|\bdown(?=[\s-]+(?:jacket|coat|filled|fill|insulat|parka|one))",
    "seat": r"\bseat(?:ed|s|ing)?\b",
    "cheapest": r"\bcheapest\b|\bleast\s+expensive\b|\blowest[\s-]+price[d]?\b",
    "premium": r"\bpremium\b|\bhigh[\s-]+end\b",
}


_DIGIT_WORDS = {str(i): w for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                                 "nine", "ten", "eleven", "twelve"])}


def tag_regex(tag: str) -> re.Pattern[str]:
    """The pattern of a catalogue tag in text: synonyms for the known ones; otherwise its words joined by
    a hyphen or a space, numbers as digits or words, an optional plural (``7-seats``: ``seven seats``)."""
    if tag in TAG_PATTERNS:
        return re.compile(TAG_PATTERNS[tag])
    words = []
    for part in re.split(r"[\s-]+|(?<=\d)(?=[a-z])", tag.lower()):
        word = re.escape(part)
        if part in _DIGIT_WORDS:
            word = f"(?:{word}|{_DIGIT_WORDS[part]})"
        elif part.endswith("s") and len(part) > 3:
            word = f"{re.escape(part[:-1])}s?"
        elif part.isalpha() and len(part) > 2:
            word = f"{word}s?"
        words.append(word)
    return re.compile(r"\b" + r"[\s-]*".join(words) + r"\b")
