package scan

import (
	"regexp"
	"strings"
	"unicode"
)

// segment is a piece of scanned text and the line it is on.
type segment struct {
	line int
	text string
}

// phraseRule is a pattern of text addressed to a reviewer or a model. It
// is matched against normalized text: lower case, invisible characters
// dropped, every run of punctuation and space turned into one space.
type phraseRule struct {
	re       *regexp.Regexp
	severity string
}

const (
	reAll    = `(?:(?:all|any|the|your|these|those|every|of|my) )*`
	reBefore = `(?:previous|prior|above|earlier|preceding|former|original|existing|system|safety|security)`
	reRules  = `(?:instructions?|rules?|prompts?|messages?|directions?|guidelines?|polic(?:y|ies)|constraints?)`
	reWho    = `(?:reviewers?|ai|model|llm|assistant|claude|chatgpt|gpt|gemini|copilot|approvers?|auditors?|bot|agent)`
)

// phraseRules is the list; the first match per segment is reported.
var phraseRules = []phraseRule{
	{regexp.MustCompile(`\b(?:ignore|disregard|forget|override|bypass) ` + reAll + reBefore + ` ` + reRules + `\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:ignore|disregard|forget) ` + reAll + `(?:instructions|rules|guidelines)\b`), SeverityHigh},
	{regexp.MustCompile(`\byou are now\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:new|updated|revised|real|actual|hidden|secret|additional) instructions?\b`), SeverityHigh},
	{regexp.MustCompile(`\bsystem prompt\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:do not|don't|dont|never) (?:tell|inform|alert|notify|warn|show|mention|reveal|report)` +
		`(?: (?:this|it|anything))?(?: to)? (?:the )?(?:users?|admins?|administrators?|reviewers?|humans?|operators?|owner)\b`), SeverityHigh},
	{regexp.MustCompile(`\bapprove (?:this|it|immediately|without|me)\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:accept|allow|merge) this (?:script|code|change|version|proposal)\b`), SeverityHigh},
	{regexp.MustCompile(`\bas an (?:ai|llm|language model|assistant)\b`), SeverityHigh},
	{regexp.MustCompile(`\bthe (?:reviewers?|approvers?|auditors?)\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:dear|attention|hey|hello|note (?:to|for)|message (?:to|for)|instructions? (?:to|for)) (?:the )?` + reWho + `\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:this|the) (?:script|code|change) (?:is|has been) (?:safe|harmless|trusted|verified|` +
		`pre approved|preapproved|already approved|approved|reviewed|audited|whitelisted|allowlisted)\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:no need to|do not|don't|never|skip) (?:review|scan|audit|inspect|check) (?:this|it|the code|the script)\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:jailbreak|jailbroken|developer mode|do anything now)\b`), SeverityHigh},
	{regexp.MustCompile(`\bpretend (?:to be|you are|that you)\b`), SeverityHigh},
	{regexp.MustCompile(`\b(?:reveal|leak|exfiltrate|dump) ` + reAll + `(?:secrets?|api keys?|tokens?|credentials|passwords?|environment)\b`), SeverityHigh},
	{regexp.MustCompile(`\bdisregard\b`), SeverityWarning},
}

// roleMarkers are chat-template tokens, matched on the raw lower-case text.
var roleMarkers = regexp.MustCompile(`<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?inst\]|<</?sys>>|</?(?:system|system-reminder|instructions)>`)

// normalize prepares text for phraseRules.
func normalize(s string) string {
	s = strings.ToLower(stripHidden(s))
	s = strings.NewReplacer("’", "'", "‘", "'").Replace(s)
	var b strings.Builder
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// matchPhrase returns the first phrase rule matching s, if any.
func matchPhrase(s string) (severity, phrase string, ok bool) {
	if m := roleMarkers.FindString(strings.ToLower(stripHidden(s))); m != "" {
		return SeverityHigh, m, true
	}
	n := normalize(s)
	for _, r := range phraseRules {
		if m := r.re.FindString(n); m != "" {
			return r.severity, m, true
		}
	}
	return "", "", false
}

// phrases reports text addressed to a reviewer or a model in a block of
// segments (one comment block, one string literal): per segment, and, when
// no segment matched alone, for the whole block joined.
func (sc *scanner) phrases(block []segment, where string) {
	found := false
	for _, s := range block {
		if sev, m, ok := matchPhrase(s.text); ok {
			sc.addPhrase(s.line, sev, m, where)
			found = true
		}
	}
	if found || len(block) < 2 {
		return
	}
	var texts []string
	for _, s := range block {
		texts = append(texts, s.text)
	}
	if sev, m, ok := matchPhrase(strings.Join(texts, " ")); ok {
		sc.addPhrase(block[0].line, sev, m, where)
	}
}

func (sc *scanner) addPhrase(line int, severity, phrase, where string) {
	sc.add(line, severity, RulePromptInjection,
		"%s in %s reads like text addressed to a reviewer or a model (prompt injection)", quote(phrase), where)
}
