//! What a shell command in a tool call's arguments says its output is.
//!
//! The command is cut into lists and pipelines at unquoted `&&`, `||`, `;`, `&`, newlines and
//! `|`, each stage split into words by [`shlex`], and read stage by stage: prefixes (`sudo`,
//! `env X=1`, `timeout 10`, `VAR=1`) are dropped, the first stage of a pipeline says what the
//! output is and the stages after it either keep that (`head`, `grep`, `sort`) or say anew
//! (`jq` → JSON, `xargs grep -n` → search hits). A list whose commands disagree, or that runs a
//! command nothing is known about, claims nothing: the text decides.

use super::{extension, Claim};

/// Argument keys that hold a command, as agents' shell tools name them.
const COMMAND_KEYS: &[&str] = &[
    "command",
    "cmd",
    "script",
    "args",
    "argv",
    "shell",
    "commandline",
    "command_line",
    "bash",
    "sh",
];

/// The most nested `sh -c '…'` read.
const MAX_DEPTH: usize = 3;

/// The claim of the shell command in a tool call's JSON `arguments`, if it has one that says
/// anything. `tool_name` stands in for the program when the arguments are its argv only
/// (`{"args": ["log", "--stat"]}` for a tool named `git`).
pub(crate) fn claim_in_arguments(arguments: &str, tool_name: Option<&str>) -> Option<Claim> {
    if arguments.len() > 64 * 1024 {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(arguments).ok()?;
    let object = value.as_object()?;
    let (_, command) = object
        .iter()
        .find(|(key, _)| COMMAND_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k)))?;
    match command {
        serde_json::Value::String(script) => claim_of_script(script, 0),
        serde_json::Value::Array(items) => {
            let argv: Vec<String> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()?;
            let argv = strip_prefixes(argv.into_iter());
            // A tool named after its program may take only the program's arguments.
            let with_tool = tool_name.map(|tool| {
                std::iter::once(tool.to_string())
                    .chain(argv.iter().cloned())
                    .collect::<Vec<_>>()
            });
            // One argv is one command: no pipes or lists in it.
            claim_of_command(&argv, 0)
                .or_else(|| with_tool.and_then(|argv| claim_of_command(&argv, 0)))
        }
        _ => None,
    }
}

/// The claim of a whole script: the one claim its lists agree on.
fn claim_of_script(script: &str, depth: usize) -> Option<Claim> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut agreed: Option<Claim> = None;
    for pipeline in split_lists(script) {
        let stages: Option<Vec<Vec<String>>> = pipeline
            .iter()
            .map(|stage| shlex::split(stage).map(|words| strip_prefixes(words.into_iter())))
            .collect();
        let stages = stages?;
        match stages.as_slice() {
            [] => continue,
            [only] if only.is_empty() || is_quiet(only) => continue,
            _ => {}
        }
        let claim = claim_of_pipeline(&stages, depth)?;
        match agreed {
            Some(earlier) if earlier != claim => return None,
            _ => agreed = Some(claim),
        }
    }
    agreed
}

/// The claim of one pipeline: its first stage's, kept or replaced by the stages after it.
fn claim_of_pipeline(stages: &[Vec<String>], depth: usize) -> Option<Claim> {
    let first = stages.first()?;
    let mut claim = first.first().and_then(|_| claim_of_command(first, depth));
    for stage in &stages[1..] {
        let program = stage.first()?;
        if let Some(own) = claim_of_filter(stage, depth) {
            claim = Some(own);
        } else if !is_passing_filter(program_name(program)) {
            return None;
        }
    }
    claim
}

/// What a stage after a pipe says of its own (`jq` → JSON, `xargs grep -n` → search hits).
fn claim_of_filter(stage: &[String], depth: usize) -> Option<Claim> {
    match program_name(&stage[0]) {
        "jq" | "gojq" | "jaq" | "yq" => Some(Claim::Json),
        "xargs" => claim_of_command(&skip_options(&stage[1..], XARGS_VALUES), depth),
        "wc" => Some(Claim::Prose),
        _ => None,
    }
}

/// Filters whose output is the same kind as their input, a part of it or reordered.
fn is_passing_filter(program: &str) -> bool {
    matches!(
        program,
        "head"
            | "tail"
            | "less"
            | "more"
            | "cat"
            | "tee"
            | "sort"
            | "uniq"
            | "grep"
            | "egrep"
            | "fgrep"
            | "rg"
            | "sed"
            | "awk"
            | "cut"
            | "tr"
            | "column"
            | "fold"
            | "expand"
            | "ts"
            | "col"
            | "colrm"
            | "perl"
            | "strings"
    )
}

/// Commands that print little or nothing: they neither claim nor veto (`cd repo && git log`).
fn is_quiet(argv: &[String]) -> bool {
    matches!(
        program_name(&argv[0]),
        "cd" | "pushd"
            | "popd"
            | "export"
            | "set"
            | "unset"
            | "source"
            | "."
            | "mkdir"
            | "rm"
            | "cp"
            | "mv"
            | "ln"
            | "touch"
            | "chmod"
            | "chown"
            | "echo"
            | "printf"
            | "true"
            | "false"
            | ":"
            | "sleep"
            | "ulimit"
            | "umask"
            | "trap"
            | "alias"
            | "shopt"
            | "local"
            | "declare"
            | "clear"
            | "wait"
    )
}

/// The last path component of a program (`/usr/bin/cat` → `cat`).
fn program_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Options of `xargs` that take a value.
const XARGS_VALUES: &[&str] = &["-I", "-i", "-n", "-P", "-d", "-E", "-L", "-s", "-a"];

/// `words` from the first one that is not an option, skipping the values of `with_values`.
fn skip_options(words: &[String], with_values: &[&str]) -> Vec<String> {
    let mut i = 0;
    while i < words.len() && words[i].starts_with('-') {
        i += 1 + usize::from(with_values.contains(&words[i].as_str()));
    }
    words.get(i..).unwrap_or_default().to_vec()
}

/// Drops what runs a command without changing its output: `sudo -u x`, `env -i X=1`, `X=1`,
/// `time`, `nice -n 5`, `nohup`, `timeout 10`, `stdbuf -oL`, `command`, `exec`, and redirections.
fn strip_prefixes(words: impl Iterator<Item = String>) -> Vec<String> {
    let mut words: Vec<String> = words.collect();
    // Redirections: `2>&1`, `>out.txt`, `> out.txt`, `<in`.
    let mut kept = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let operator = word.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
        if operator.starts_with(['>', '<']) {
            let bare = operator.trim_start_matches(['>', '<', '&', '|']).is_empty();
            i += 1 + usize::from(bare && !word.ends_with('&'));
            continue;
        }
        kept.push(std::mem::take(&mut words[i]));
        i += 1;
    }
    let mut words = kept;
    loop {
        let Some(first) = words.first() else {
            return words;
        };
        let skip = match program_name(first) {
            "sudo" | "doas" => {
                1 + option_span(
                    &words[1..],
                    &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t"],
                )
            }
            "env" => {
                let mut n = 1 + option_span(&words[1..], &["-u", "-C", "-S"]);
                while words.get(n).is_some_and(|w| is_assignment(w)) {
                    n += 1;
                }
                n
            }
            "time" | "nohup" | "command" | "exec" | "builtin" | "unbuffer" | "chronic" => {
                1 + option_span(&words[1..], &[])
            }
            "nice" | "ionice" | "stdbuf" => 1 + option_span(&words[1..], &["-n", "-c"]),
            "timeout" => {
                let n = 1 + option_span(&words[1..], &["-s", "-k", "--signal", "--kill-after"]);
                n + usize::from(n < words.len())
            }
            _ if is_assignment(first) => 1,
            _ => return words,
        };
        if skip >= words.len() {
            return Vec::new();
        }
        words.drain(..skip);
    }
}

/// How many leading words are options (with their values for `with_values`).
fn option_span(words: &[String], with_values: &[&str]) -> usize {
    let mut i = 0;
    while i < words.len() && words[i].starts_with('-') && words[i] != "-" {
        if words[i] == "--" {
            return i + 1;
        }
        i += 1 + usize::from(with_values.contains(&words[i].as_str()));
    }
    i.min(words.len())
}

/// `NAME=value` before a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// The claim of one command (its prefixes already dropped), from its program and arguments.
fn claim_of_command(argv: &[String], depth: usize) -> Option<Claim> {
    let program = program_name(argv.first()?);
    let args = &argv[1..];
    match program {
        "sh" | "bash" | "zsh" | "dash" | "ksh" => {
            let at = args
                .iter()
                .position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))?;
            claim_of_script(args.get(at + 1)?, depth + 1)
        }
        "cat" | "less" | "more" | "most" | "pg" => claim_of_files(files(args, &[])),
        "bat" | "batcat" => claim_of_files(files(
            args,
            &[
                "-l",
                "-H",
                "-r",
                "-m",
                "--language",
                "--line-range",
                "--style",
            ],
        )),
        "nl" => claim_of_files(files(args, &["-b", "-i", "-n", "-s", "-v", "-w"])),
        "head" | "tail" => claim_of_files(files(args, &["-n", "-c", "--lines", "--bytes", "-s"])),
        "sed" => {
            // `sed -n '1,80p' FILE`: the first operand is the script unless `-e`/`-f` gave it.
            let scripted = args.iter().any(|a| a == "-e" || a == "-f");
            let operands = files(args, &["-e", "-f", "-l"]);
            claim_of_files(operands.into_iter().skip(usize::from(!scripted)).collect())
        }
        "man" | "info" | "pinfo" | "perldoc" | "pydoc" | "pydoc3" | "help" | "tldr" => {
            Some(Claim::Prose)
        }
        "git" => claim_of_git(args),
        "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" | "ack-grep" | "ugrep" | "zgrep" => {
            Some(Claim::Search)
        }
        "ls" | "find" | "fd" | "fdfind" | "tree" | "du" | "exa" | "eza" | "lsd" | "locate" => {
            Some(Claim::Listing)
        }
        "curl" | "wget" | "http" | "https" | "xh" | "xhs" | "httpie" | "jq" | "gojq" => {
            Some(Claim::Json)
        }
        "gh" => match args.first().map(String::as_str) {
            Some("api") => Some(Claim::Json),
            _ if args
                .iter()
                .any(|a| a == "--json" || a.starts_with("--json=")) =>
            {
                Some(Claim::Json)
            }
            _ => None,
        },
        "journalctl" | "dmesg" | "logcat" => Some(Claim::Logs),
        "docker" | "podman" | "kubectl" | "oc" | "nerdctl" => {
            let sub: Vec<&str> = args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str)
                .collect();
            match sub.as_slice() {
                ["logs", ..] | ["compose", "logs", ..] | ["container", "logs", ..] => {
                    Some(Claim::Logs)
                }
                ["build", ..] | ["compose", "build" | "up", ..] | ["pull", ..] => Some(Claim::Logs),
                ["inspect", ..] => Some(Claim::Json),
                _ if args
                    .iter()
                    .any(|a| a == "json" || a == "-ojson" || a == "--output=json") =>
                {
                    Some(Claim::Json)
                }
                _ => None,
            }
        }
        "cargo" => match args
            .iter()
            .find(|a| !a.starts_with(['-', '+']))
            .map(String::as_str)
        {
            Some("metadata") => Some(Claim::Json),
            Some("tree") => Some(Claim::Listing),
            Some(_) => Some(Claim::Logs),
            None => None,
        },
        "npm" | "pnpm" | "yarn" | "bun" | "npx" | "pnpx" | "bunx" => {
            if args.iter().any(|a| a == "--json") {
                Some(Claim::Json)
            } else if args.iter().any(|a| {
                matches!(
                    a.as_str(),
                    "view" | "info" | "show" | "ls" | "list" | "outdated"
                )
            }) {
                None
            } else {
                Some(Claim::Logs)
            }
        }
        "python" | "python3" | "py" => match args {
            [flag, module, ..] if flag == "-m" => match module.as_str() {
                "json.tool" => Some(Claim::Json),
                "pydoc" => Some(Claim::Prose),
                "pytest" | "unittest" | "pip" | "tox" | "nox" | "mypy" | "build" | "ruff"
                | "pylint" | "flake8" | "coverage" => Some(Claim::Logs),
                _ => None,
            },
            _ => None,
        },
        "uv" | "poetry" | "pipenv" | "pdm" | "hatch" | "bundle" => {
            match args.first().map(String::as_str) {
                Some("run" | "exec") => claim_of_command(&args[1..], depth),
                Some(_) => Some(Claim::Logs),
                None => None,
            }
        }
        "go" => match args.first().map(String::as_str) {
            Some("doc") => Some(Claim::Prose),
            Some("list") if args.iter().any(|a| a == "-json") => None,
            Some(_) => Some(Claim::Logs),
            None => None,
        },
        "apt-cache" | "apt" | "dpkg" | "dpkg-query" | "rpm" | "dnf" | "yum" | "apt-get" | "pip"
        | "pip3" | "brew" => {
            if args.iter().any(|a| a == "--format=json" || a == "--json") {
                Some(Claim::Json)
            } else if args.iter().any(|a| {
                matches!(
                    a.as_str(),
                    "list" | "-l" | "--list" | "-L" | "--listfiles" | "freeze" | "search"
                )
            }) {
                Some(Claim::Listing)
            } else {
                Some(Claim::Logs)
            }
        }
        "pytest" | "py.test" | "tox" | "nox" | "make" | "gmake" | "cmake" | "ninja" | "meson"
        | "bazel" | "bazelisk" | "gradle" | "gradlew" | "mvn" | "mvnw" | "ant" | "rustc"
        | "rustup" | "gcc" | "g++" | "clang" | "clang++" | "cc" | "c++" | "javac" | "tsc"
        | "eslint" | "ruff" | "mypy" | "flake8" | "pylint" | "jest" | "vitest" | "mocha"
        | "dotnet" | "swift" | "terraform" | "ansible-playbook" | "systemctl" | "ctest"
        | "nextest" | "mix" | "rake" | "rspec" | "phpunit" | "composer" => Some(Claim::Logs),
        _ => None,
    }
}

/// The claim of `git ARGS`: its global options skipped, by subcommand.
fn claim_of_git(args: &[String]) -> Option<Claim> {
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        let takes_value = matches!(args[i].as_str(), "-C" | "-c" | "--git-dir" | "--work-tree");
        i += 1 + usize::from(takes_value);
    }
    let sub = args.get(i)?.as_str();
    let rest = &args[i + 1..];
    Some(match sub {
        // With patches (`-p`) too: a history is commits first, each with its diff.
        "log" | "whatchanged" | "reflog" | "shortlog" => Claim::Commits,
        "diff" | "show" | "format-patch" | "range-diff" => Claim::Diff,
        "stash" if rest.first().is_some_and(|a| a == "show") => Claim::Diff,
        "grep" => Claim::Search,
        "ls-files" | "ls-tree" | "status" | "branch" | "tag" | "worktree" => Claim::Listing,
        "help" => Claim::Prose,
        _ => return None,
    })
}

/// The operands of a file-reading command: its words that are not options (nor option values).
fn files(args: &[String], with_values: &[&str]) -> Vec<String> {
    let mut operands = Vec::new();
    let mut i = 0;
    let mut options_done = false;
    while i < args.len() {
        let a = &args[i];
        if !options_done && a == "--" {
            options_done = true;
        } else if !options_done && a.starts_with('-') && a.len() > 1 {
            // `-n 50` takes a value; `-n50`, `--lines=50` and `-50` carry theirs.
            i += usize::from(with_values.contains(&a.as_str()));
        } else if !options_done && a.starts_with('+') {
            // `tail +20`
        } else {
            operands.push(a.clone());
        }
        i += 1;
    }
    operands
}

/// The claim of reading `files`: the one their extensions (or names) agree on.
fn claim_of_files(files: Vec<String>) -> Option<Claim> {
    let mut agreed = None;
    for file in &files {
        let claim = claim_of_file(file)?;
        match agreed {
            Some(earlier) if earlier != claim => return None,
            _ => agreed = Some(claim),
        }
    }
    agreed
}

/// The claim of a file's content, by its extension, else by its name or directory.
fn claim_of_file(path: &str) -> Option<Claim> {
    if let Some(claim) = extension(path).and_then(Claim::of_extension) {
        return Some(claim);
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    if matches!(
        stem.as_str(),
        "README"
            | "CHANGELOG"
            | "CHANGES"
            | "NEWS"
            | "LICENSE"
            | "COPYING"
            | "AUTHORS"
            | "NOTICE"
            | "CONTRIBUTING"
            | "HISTORY"
            | "INSTALL"
    ) {
        return Some(Claim::Prose);
    }
    // `/var/log/syslog`, `logs/app.1`.
    let in_log_dir = path
        .split('/')
        .rev()
        .skip(1)
        .any(|dir| dir == "log" || dir == "logs");
    in_log_dir.then_some(Claim::Logs)
}

/// The script cut into lists (at unquoted `&&`, `||`, `;`, `&`, newlines) of pipelines (at `|`),
/// quotes, `$(…)` and parentheses respected. A heredoc's body is not read as commands.
fn split_lists(script: &str) -> Vec<Vec<String>> {
    let mut lists: Vec<Vec<String>> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut heredoc: Option<String> = None;
    let mut chars = script.chars().peekable();
    let flush_stage = |stages: &mut Vec<String>, word: &mut String| {
        let stage = std::mem::take(word);
        if !stage.trim().is_empty() {
            stages.push(stage.trim().to_string());
        }
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            word.push(c);
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                word.push(c);
            }
            '\\' => {
                word.push(c);
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            '(' => {
                depth += 1;
                word.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                word.push(c);
            }
            '#' if depth == 0 && (word.is_empty() || word.ends_with(char::is_whitespace)) => {
                // A comment, to the end of the line.
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '<' if depth == 0 && chars.peek() == Some(&'<') => {
                chars.next();
                word.push_str("<<");
                let rest: String = chars.clone().take_while(|&n| n != '\n').collect();
                let tag = rest
                    .trim_start_matches(['-', '~'])
                    .trim_start()
                    .trim_matches(|n: char| n == '\'' || n == '"')
                    .split(|n: char| n.is_whitespace() || n == '\'' || n == '"')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if !tag.is_empty() && !tag.starts_with('<') {
                    heredoc = Some(tag);
                }
            }
            // `2>&1`, `&>out`, `<&3` redirect; they end nothing.
            '&' if word.ends_with(['>', '<']) || chars.peek() == Some(&'>') => word.push(c),
            '\n' | ';' | '&' | '|' if depth == 0 => {
                let doubled = chars.peek() == Some(&c);
                flush_stage(&mut stages, &mut word);
                let ends_list = c != '|' || doubled;
                if doubled {
                    chars.next();
                }
                if c == '|' && chars.peek() == Some(&'&') {
                    chars.next();
                }
                if ends_list && !stages.is_empty() {
                    lists.push(std::mem::take(&mut stages));
                }
                if c == '\n' {
                    if let Some(tag) = heredoc.take() {
                        // Skip the heredoc's body, up to its closing tag.
                        let mut line = String::new();
                        for n in chars.by_ref() {
                            if n == '\n' {
                                if line.trim() == tag {
                                    break;
                                }
                                line.clear();
                            } else {
                                line.push(n);
                            }
                        }
                    }
                }
            }
            _ => word.push(c),
        }
    }
    flush_stage(&mut stages, &mut word);
    if !stages.is_empty() {
        lists.push(stages);
    }
    // A stage in parentheses is a subshell: read what it runs.
    lists
        .into_iter()
        .flat_map(|stages| {
            if let [only] = stages.as_slice() {
                if let Some(inner) = only.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
                    return split_lists(inner);
                }
            }
            vec![stages]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(command: &str) -> Option<Claim> {
        let arguments = serde_json::json!({ "command": command }).to_string();
        claim_in_arguments(&arguments, Some("bash"))
    }

    #[test]
    fn lists_and_pipelines_split_outside_quotes() {
        assert_eq!(
            split_lists("cd /x && cat 'a b.rs' | head -50; echo \"a|b\""),
            vec![
                vec!["cd /x".to_string()],
                vec!["cat 'a b.rs'".to_string(), "head -50".to_string()],
                vec!["echo \"a|b\"".to_string()],
            ]
        );
        assert_eq!(
            split_lists("cat <<'EOF' > a.py\nprint(1) | x\nEOF\npython a.py"),
            vec![
                vec!["cat <<'EOF' > a.py".to_string()],
                vec!["python a.py".to_string()]
            ]
        );
        assert_eq!(
            split_lists("(cd repo && git log --stat)"),
            vec![
                vec!["cd repo".to_string()],
                vec!["git log --stat".to_string()]
            ]
        );
    }

    #[test]
    fn files_are_read_by_their_extension() {
        use super::super::Language;
        assert_eq!(
            claim("cat src/x.rs | head -50"),
            Some(Claim::Code(Language::Rust))
        );
        assert_eq!(
            claim("sudo -u app env RUST_LOG=debug tail -n 200 /srv/app/main.py"),
            Some(Claim::Code(Language::Python))
        );
        assert_eq!(claim("sed -n '10,80p' docs/guide.md"), Some(Claim::Prose));
        assert_eq!(claim("bat --paging=never README"), Some(Claim::Prose));
        assert_eq!(claim("tail -f /var/log/syslog"), Some(Claim::Logs));
        assert_eq!(
            claim("cat a.rs b.py"),
            None,
            "two languages: the text decides"
        );
        assert_eq!(claim("cat fix.patch"), Some(Claim::Diff));
        assert_eq!(claim("cat package.json"), Some(Claim::Json));
    }

    #[test]
    fn programs_name_their_output() {
        assert_eq!(claim("MANWIDTH=80 man -P cat tar"), Some(Claim::Prose));
        assert_eq!(claim("git -C repo log --stat -n 20"), Some(Claim::Commits));
        assert_eq!(claim("git log -p --since=2024-01-01"), Some(Claim::Commits));
        assert_eq!(claim("git --no-pager show HEAD~2"), Some(Claim::Diff));
        assert_eq!(claim("rg -n 'fn main' src"), Some(Claim::Search));
        assert_eq!(claim("git grep -n TODO"), Some(Claim::Search));
        assert_eq!(
            claim("find . -name '*.rs' | xargs grep -n unsafe"),
            Some(Claim::Search)
        );
        assert_eq!(claim("ls -la /etc"), Some(Claim::Listing));
        assert_eq!(
            claim("curl -s https://api.github.com/repos/o/r/issues | jq '.[0]'"),
            Some(Claim::Json)
        );
        assert_eq!(claim("gh api repos/o/r/commits"), Some(Claim::Json));
        assert_eq!(
            claim("kubectl logs -n prod deploy/web --tail=500"),
            Some(Claim::Logs)
        );
        assert_eq!(
            claim("cd app && cargo test 2>&1 | tail -80"),
            Some(Claim::Logs)
        );
        assert_eq!(
            claim("timeout 600 python -m pytest -x -q"),
            Some(Claim::Logs)
        );
        assert_eq!(claim("bash -lc 'journalctl -u nginx'"), Some(Claim::Logs));
        assert_eq!(claim("apt-cache show libssl3"), Some(Claim::Logs));
    }

    #[test]
    fn unknown_or_mixed_commands_claim_nothing() {
        assert_eq!(claim("./run.sh"), None);
        assert_eq!(claim("python script.py"), None);
        assert_eq!(claim("ls && cat a.rs"), None);
        assert_eq!(claim("cat a.rs | python -c 'import sys'"), None);
        assert_eq!(claim("echo 'unbalanced"), None);
        // An editor tool's `command` is a verb of its own, not a program.
        let editor = r#"{"command": "view", "path": "src/lib.rs"}"#;
        assert_eq!(claim_in_arguments(editor, Some("str_replace_editor")), None);
        assert_eq!(claim_in_arguments("not json", None), None);
    }

    #[test]
    fn an_argv_array_is_one_command() {
        let argv = r#"{"args": ["log", "--stat"]}"#;
        assert_eq!(claim_in_arguments(argv, Some("git")), Some(Claim::Commits));
        let argv = r#"{"command": ["cat", "notes.md"]}"#;
        assert_eq!(claim_in_arguments(argv, Some("exec")), Some(Claim::Prose));
    }
}
