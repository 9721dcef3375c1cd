//! Small graph algorithms for the checks on `backup`, `after`, `delegates` and data parents:
//! strongly connected components (iterative Tarjan, linear time), one cycle per component,
//! and longest paths in what is left acyclic. All iterative, so no input can exhaust the stack.

/// The nodes of each cycle-bearing component, as one cycle in edge order (starting at the
/// component's smallest node). Runs in linear time.
pub fn cycles(n: usize, edges: &dyn Fn(usize) -> Vec<usize>) -> Vec<Vec<usize>> {
    let comps = sccs(n, edges);
    let mut out = Vec::new();
    for comp in comps {
        let self_loop = comp.len() == 1 && comp.first().is_some_and(|&v| edges(v).contains(&v));
        if comp.len() < 2 && !self_loop {
            continue;
        }
        let Some(&start) = comp.iter().min() else {
            continue;
        };
        let mut in_comp = vec![false; n];
        for &v in &comp {
            if let Some(x) = in_comp.get_mut(v) {
                *x = true;
            }
        }
        if let Some(c) = cycle_through(start, &|v| {
            edges(v)
                .into_iter()
                .filter(|w| in_comp.get(*w).copied().unwrap_or(false))
                .collect()
        }) {
            out.push(c);
        }
    }
    out.sort();
    out
}

/// A cycle through `start` (nodes in order, starting at `start`), if there is one.
pub fn cycle_through(start: usize, edges: &dyn Fn(usize) -> Vec<usize>) -> Option<Vec<usize>> {
    let mut path = vec![start];
    let mut stack: Vec<Vec<usize>> = vec![edges(start)];
    let mut visited = std::collections::HashSet::new();
    visited.insert(start);
    while let Some(next) = stack.last_mut() {
        match next.pop() {
            Some(n) if n == start => return Some(path),
            Some(n) if visited.insert(n) => {
                path.push(n);
                stack.push(edges(n));
            }
            Some(_) => {}
            None => {
                stack.pop();
                path.pop();
            }
        }
    }
    None
}

/// Strongly connected components (iterative Tarjan).
fn sccs(n: usize, edges: &dyn Fn(usize) -> Vec<usize>) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0usize;
    for root in 0..n {
        if index.get(root).copied() != Some(UNSEEN) {
            continue;
        }
        // (node, its successors, position in them)
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(root, edges(root), 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, succ, pos)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = succ.get(*pos) {
                *pos += 1;
                if w >= n {
                    continue;
                }
                if index[w] == UNSEEN {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, edges(w), 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
        }
    }
    out
}

/// For each node, the number of edges on the longest path from it, ignoring nodes marked
/// `skip` (those on cycles). Iterative, linear time.
pub fn longest_paths(n: usize, edges: &dyn Fn(usize) -> Vec<usize>, skip: &[bool]) -> Vec<u32> {
    let mut memo: Vec<Option<u32>> = vec![None; n];
    for root in 0..n {
        if memo[root].is_some() || skip.get(root).copied().unwrap_or(true) {
            continue;
        }
        let mut work: Vec<(usize, bool)> = vec![(root, false)];
        while let Some((v, expanded)) = work.pop() {
            if memo[v].is_some() {
                continue;
            }
            let succ: Vec<usize> = edges(v)
                .into_iter()
                .filter(|w| *w < n && !skip.get(*w).copied().unwrap_or(true))
                .collect();
            if expanded {
                let best = succ
                    .iter()
                    .filter_map(|w| memo[*w])
                    .map(|d| d + 1)
                    .max()
                    .unwrap_or(0);
                memo[v] = Some(best);
            } else {
                work.push((v, true));
                work.extend(
                    succ.into_iter()
                        .filter(|w| memo[*w].is_none())
                        .map(|w| (w, false)),
                );
            }
        }
    }
    memo.into_iter().map(|m| m.unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_cycle_once_and_handles_long_chains() {
        let edges = |v: usize| match v {
            0 => vec![1],
            1 => vec![2],
            2 => vec![0],
            3 => vec![3],
            4 => vec![0],
            _ => vec![],
        };
        assert_eq!(cycles(6, &edges), vec![vec![0, 1, 2], vec![3]]);
        let n = 100_000;
        let chain = |v: usize| if v + 1 < n { vec![v + 1] } else { vec![] };
        assert!(cycles(n, &chain).is_empty());
        let depths = longest_paths(n, &chain, &vec![false; n]);
        assert_eq!(depths[0], (n - 1) as u32);
    }
}
