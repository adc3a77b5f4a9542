package textfmt

import "strings"

// Closest returns the candidate nearest to s: one s is a prefix of (or
// that is a prefix of s), else the one fewest edits away if that is close
// enough to be a typing slip; "" if none is.
func Closest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		// A command as short as "ls" is no prefix of a longer word
		// ("lsit-repos" is list-repos mistyped, not ls).
		if strings.HasPrefix(c, s) || (len(c) > 2 && strings.HasPrefix(s, c)) {
			// "push" for push-blob; "pull-blobs" for pull-blob.
			d := abs(len(c) - len(s))
			if bestDist < 0 || d < bestDist {
				best, bestDist = c, d
			}
		}
	}
	if best != "" {
		return best
	}
	limit := max(1, min(3, len(s)/3))
	for _, c := range candidates {
		if d := editDistance(s, c); d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, a swap of two
// neighbouring characters counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
