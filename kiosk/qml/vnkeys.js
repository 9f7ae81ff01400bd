// Vietnamese tone marks for the on-screen keyboard: a tone key puts its mark on the right vowel of
// the last word typed (replacing a mark already there; the same mark again takes it off).
// Plain ECMAScript with no QML: the tests load this file into a QJSEngine.

var BASES = "aăâeêioôơuưy";
var TONED = [
    "aáàảãạ", "ăắằẳẵặ", "âấầẩẫậ", "eéèẻẽẹ", "êếềểễệ", "iíìỉĩị",
    "oóòỏõọ", "ôốồổỗộ", "ơớờởỡợ", "uúùủũụ", "ưứừửữự", "yýỳỷỹỵ"
];
var MODIFIED = "ăâêôơư";
var TONES = ["", "sac", "huyen", "hoi", "nga", "nang"];

// [base letter, tone index, upper case] of one character, or null if it is not a vowel.
function vowel(ch) {
    var lower = ch.toLowerCase();
    for (var b = 0; b < TONED.length; b++) {
        var t = TONED[b].indexOf(lower);
        if (t >= 0)
            return [BASES[b], t, lower !== ch];
    }
    return null;
}

function toned(base, tone, upper) {
    var ch = TONED[BASES.indexOf(base)][tone];
    return upper ? ch.toUpperCase() : ch;
}

// Index (in word) of the vowel that carries the tone, or -1.
function toneIndex(word) {
    var lower = word.toLowerCase();
    var vowels = [];
    for (var i = 0; i < word.length; i++) {
        var v = vowel(word[i]);
        if (v === null)
            continue;
        var next = i + 1 < word.length && vowel(word[i + 1]) !== null;
        // "qu" and "gi" before another vowel are consonants: quá, già
        if (next && ((v[0] === "u" && i > 0 && lower[i - 1] === "q") || (v[0] === "i" && i > 0 && lower[i - 1] === "g")))
            continue;
        vowels.push(i);
    }
    if (vowels.length === 0)
        return -1;
    for (var k = vowels.length - 1; k >= 0; k--) {
        if (MODIFIED.indexOf(vowel(word[vowels[k]])[0]) >= 0)
            return vowels[k];
    }
    if (vowels.length === 1)
        return vowels[0];
    var last = vowels[vowels.length - 1];
    if (vowels.length === 2 && last === word.length - 1)
        return vowels[0];  // hòa, mùa, kìa: no final consonant
    return vowels[1];      // hoàng, toán, ngoài
}

// ``text`` with tone ``name`` (sac, huyen, hoi, nga, nang) on its last word.
function applyTone(text, name) {
    var tone = TONES.indexOf(name);
    if (tone <= 0)
        return text;
    var start = text.lastIndexOf(" ") + 1;
    var word = text.slice(start);
    var at = toneIndex(word);
    if (at < 0)
        return text;
    var current = vowel(word[at])[1];
    var out = "";
    for (var i = 0; i < word.length; i++) {
        var v = vowel(word[i]);
        if (v === null)
            out += word[i];
        else if (i === at)
            out += toned(v[0], current === tone ? 0 : tone, v[2]);
        else
            out += toned(v[0], 0, v[2]);
    }
    return text.slice(0, start) + out;
}
