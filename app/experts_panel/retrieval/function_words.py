"""Words that carry grammar, not a topic, in English and Russian: the language bridge neither
translates them nor searches with them.

The bridge told them only by how many of an expert's posts hold their closest translation
(more than a fifth). That needs many posts: in a channel of fifty, "how", "what", "should" and
"often" are each in fewer than ten, so they were translated and matched posts about nothing in
particular. A list does not depend on the channel's size. Written for this project: pronouns,
articles, prepositions, conjunctions, particles, auxiliary and modal verbs, question words and
the commonest adverbs of degree and time, as `stemming.words` folds them (lower case, ё as е),
three letters or more (shorter words are never in the vocabulary).
"""

from __future__ import annotations

_ENGLISH = """
about above after again against all almost also although always among and another any anybody
anyone anything anyway anywhere are aren around because been before being below beside besides
between both but can cannot could couldn did didn does doesn doing done down during each either
else enough even ever every everybody everyone everything everywhere few for from further get
gets getting got had hadn has hasn have haven having her here hers herself him himself his how
however into isn its itself just keep keeps kept least less let lets like many may maybe might
mine more most much must mustn myself near need needs neither never nevertheless next nobody
none nor not nothing now nowhere off often once one ones only onto other others otherwise our
ours ourselves out over own per perhaps quite rather really same seem seems several shall she
should shouldn since some somebody someone something sometimes somewhere still such than that
the their theirs them themselves then there therefore these they thing things this those though
through thus till too toward towards under until upon usually very was wasn way ways were
weren what whatever when whenever where wherever whether which while who whoever whole whom
whose why will with within without won would wouldn yes yet you your yours yourself yourselves
"""

_RUSSIAN = """
без более больше будет будем будете будешь буду будут был была были было быть вам вами вас
весь вместо вне вокруг вот впрочем все всегда всего всех всю вся всё где да даже для его ее
если есть еще же за зачем здесь из или им ими их как какая какие каким какой какое когда
кого кое которая которые который которого которой котором которую кроме кто куда ли либо
между меня мне многие много может можно мой моя мое мои мы на над надо наш наша наше наши не
него нее ней нельзя нем нет неё ни нибудь никогда ним них ничего но ну нужно нужен нужна
нужны об обо один одна одни одно около он она они оно опять от очень перед по под пока после
потом потому почему почти при про раз разве самый свой своя свое свои себе себя сейчас со
совсем так также такая такие такой такое там тебе тебя тем теперь то тогда того тоже той
только том тот ту тут ты уж уже хоть хотя чего чем через что чтоб чтобы чуть эта эти этим
этих это этого этой этом этот эту
"""

FUNCTION_WORDS: frozenset[str] = frozenset(
    word.replace("ё", "е") for word in (_ENGLISH + _RUSSIAN).split()
)


def is_function_word(word: str) -> bool:
    return word in FUNCTION_WORDS
