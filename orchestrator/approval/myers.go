package approval

import "slices"

// myers returns a shortest edit script from a to b (Myers, "An O(ND)
// Difference Algorithm and Its Variations", 1986), or, past maxDiffEdits
// edits, a script that removes all of a and adds all of b.
func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	if n+m == 0 {
		return nil
	}
	off := n + m
	v := make([]int32, 2*off+2)
	// trace[d] is v, for diagonals -d..d, before step d.
	var trace [][]int32
	for d := 0; d <= n+m; d++ {
		if d > maxDiffEdits {
			return replaceAll(a, b)
		}
		trace = append(trace, slices.Clone(v[off-d:off+d+1]))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = int(v[off+k+1]) // down: insert b[y]
			} else {
				x = int(v[off+k-1]) + 1 // right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				return backtrack(trace, a, b)
			}
		}
	}
	return replaceAll(a, b) // not reached: d = n+m always ends
}

// backtrack walks the trace from the end of both texts to their start.
func backtrack(trace [][]int32, a, b []string) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d] // diagonal k at index k+d
		k := x - y
		pk := k - 1
		if k == -d || k != d && prev[k-1+d] < prev[k+1+d] {
			pk = k + 1
		}
		px := int(prev[pk+d])
		py := px - pk
		for x > px && y > py {
			rev = append(rev, edit{' ', a[x-1]})
			x, y = x-1, y-1
		}
		if x == px {
			rev = append(rev, edit{'+', b[y-1]})
			y--
		} else {
			rev = append(rev, edit{'-', a[x-1]})
			x--
		}
	}
	for x > 0 && y > 0 {
		rev = append(rev, edit{' ', a[x-1]})
		x, y = x-1, y-1
	}
	slices.Reverse(rev)
	return rev
}

func replaceAll(a, b []string) []edit {
	out := make([]edit, 0, len(a)+len(b))
	for _, l := range a {
		out = append(out, edit{'-', l})
	}
	for _, l := range b {
		out = append(out, edit{'+', l})
	}
	return out
}
