"""Confusable skeletons (UTS #39) and mixed scripts: what the registry refuses and flags."""
import pytest

from services.registry.lookalikes import lookalike_key, mixed_script_words, skeleton


@pytest.mark.parametrize("look_alike,original", [
    ("СРК", "CPK"),                                  # Cyrillic Es, Er, Ka
    ("cpk", "CPK"),                                  # case
    ("ＣＰＫ", "CPK"),                                # full-width letters
    ("C\u200dP\u200cK\u2060", "CPK"),                # zero-width joiner, non-joiner, word joiner
    ("C\ufe0fPK", "CPK"),                            # a variation selector
    ("Cοmmunist Party", "Communist Party"),          # Greek omicron
    ("Communist  Party ", "Communist Party"),        # spacing
    ("ΡΚΚ", "PKK"),                                  # Greek capitals Rho, Kappa
    ("حزب کارگران ایران", "حزب كارگران ايران"),      # Persian keheh and yeh as Arabic kaf and yeh
    ("ی", "ي"), ("ک", "ك"),
    ("AlI", "All"),                                  # capital I as small l
    ("ｃｐｋ", "CPK"), ("Ｋｅｎｙａ", "Kenya"),          # full-width small letters
    ("Ｃｏｍｍｕｎｉｓｔ Party", "Communist Party"),
    ("حزب كـــار", "حزب كار"),                        # the tatweel stretches, it adds nothing
    ("Communist\u2800Party", "Communist Party"),     # a braille blank for a space
])
def test_look_alikes_have_one_key(look_alike, original):
    assert look_alike != original
    assert lookalike_key(look_alike) == lookalike_key(original)


@pytest.mark.parametrize("one,other", [
    ("CPK", "CPB"), ("MLKP", "MKP"), ("PCE", "PCP"),
    ("Communist Party of Kenya", "Communist Party of Uganda"),
    ("Partido Comunista", "Partido Socialista"),
    ("Българска комунистическа партия", "Българска социалистическа партия"),
    ("حزب کار", "حزب کارگر"),
])
def test_distinct_names_stay_distinct(one, other):
    assert lookalike_key(one) != lookalike_key(other)


def test_the_skeleton_is_unicodes_mapping_decomposed():
    assert skeleton("СРК") == "CPK"                 # Cyrillic capitals to Latin
    assert skeleton("ο") == "o"                     # Greek omicron
    assert skeleton("ی") == skeleton("ي") == "ى"    # both yeh to alef maksura, as confusables.txt says
    assert skeleton("é") == "e\u0301"               # NFD
    assert skeleton(skeleton("Ꮯ𝐏Ｋ")) == skeleton("Ꮯ𝐏Ｋ") == "CPK"  # Cherokee, mathematical bold, full-width


@pytest.mark.parametrize("text,mixed", [
    ("СPK", ["СPK"]),                                # Cyrillic С with Latin PK
    ("CPK ПКБ", []),                                 # two words, each in one script
    ("Partido Comunista", []),
    ("Cοmmunist Party", ["Cοmmunist"]),              # a Greek omicron in a Latin word
    ("日本共産党 にほん カタカナ", []),                  # Japanese mixes Han and kana by design
    ("조선로동당 朝鮮", []),                            # Korean: Hangul with Han
    ("MLKP-2022", []),                               # digits and punctuation belong to no script
    ("C\u200dPK", []),                               # an invisible joiner is no script
])
def test_words_that_mix_scripts(text, mixed):
    assert mixed_script_words(text) == mixed
