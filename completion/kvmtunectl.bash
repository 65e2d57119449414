# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for kvmtunectl(8).
#
# The verbs, each verb's options and what its arguments are come from kvmtunectl itself
# (`kvmtunectl --help` and `kvmtunectl VERB --help`), so completion follows the installed
# binary: an argument the usage calls VM completes to the names and pids `kvmtunectl list`
# prints, FILE or DIR to policy files (*.yaml, *.yml) and directories, and the words after
# `--` to a command and its arguments.

_kvmtunectl_verbs() { # KVMTUNECTL
	"$1" --help 2>/dev/null |
		sed -n '/^Commands:/,/^Options:/s/^  \([a-z][a-z0-9-]*\).*/\1/p'
}

_kvmtunectl_vms() { # KVMTUNECTL [GLOBAL-OPTIONS...]: the names and pids of the running VMs
	"$@" list 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1; print $2 }'
}

_kvmtunectl_options() { # USAGE-TEXT: the options it shows
	grep -oE -- '(^|[^-a-zA-Z0-9])--?[a-zA-Z][-a-zA-Z0-9]*' <<<"$1" | sed 's/^[^-]*//' | sort -u
}

_kvmtunectl_takes_arg() { # USAGE-TEXT OPTION: the usage writes OPTION ARG
	grep -qE -- "(^|[[ |])$2(, *--?[-a-zA-Z0-9]+)? [^] [|-]" <<<"$1"
}

# The positional words of a verb's usage, one a line (VM..., FILE|DIR..., NAME, --, ...):
# options and their arguments left out, every usage line in turn (the lines that start with
# "Usage:" or continue it; the description and option list below them are not usage).
_kvmtunectl_positionals() { # VERB USAGE-TEXT
	sed -nE '/^(Usage:| +kvmtunectl )/p' <<<"$2" |
	sed -E "s/^Usage://; s/^ *kvmtunectl $1//; s/\[-[^]]*\]//g;
		s/(^| )--?[a-zA-Z][-a-zA-Z0-9]*( [^ []+)?//g; s/[][]/ /g" |
		tr -s ' ' '\n' | grep -v -e '^$' -e '='
}

_kvmtunectl() {
	local cur prev words cword
	_init_completion || return

	local cmd=${words[0]} verb= vi=0 i help
	local -a global=()
	help=$("$cmd" --help 2>/dev/null)
	help=${help#*Options:} # the global options
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			verb=${words[i]}
			vi=$i
			break
		fi
		global+=("${words[i]}")
		if _kvmtunectl_takes_arg "$help" "${words[i]}" && ((i + 1 < cword)); then
			global+=("${words[i + 1]}")
			((i++))
		fi
	done

	if [[ -z $verb ]]; then
		if [[ $prev == -* ]] && _kvmtunectl_takes_arg "$help" "$prev"; then
			_filedir -d
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_kvmtunectl_options "$help")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_kvmtunectl_verbs "$cmd")" -- "$cur"))
		fi
		return
	fi

	local usage n=0 kind
	usage=$("$cmd" "$verb" --help 2>/dev/null) || return
	# The words after "--" (run): a command line of its own.
	for ((i = vi + 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			_command_offset $((i + 1))
			return
		fi
	done
	if [[ $prev == -* ]] && _kvmtunectl_takes_arg "$usage" "$prev"; then
		case $(grep -oE -- "$prev [^] [|]+" <<<"$usage" | head -n 1) in
		*FILE* | *DIR*) _filedir '@(yaml|yml)' ;;
		esac
		return # otherwise a value only the user knows
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_kvmtunectl_options "${usage//kvmtunectl $verb/}") --help" -- "$cur"))
		return
	fi
	# Which positional word this is: the words since the verb, options and their arguments
	# not counted; a last usage word ending in "..." repeats.
	for ((i = vi + 1; i < cword; i++)); do
		if [[ ${words[i]} == -* ]]; then
			_kvmtunectl_takes_arg "$usage" "${words[i]}" && ((i++))
		else
			((n++))
		fi
	done
	local -a pos
	mapfile -t pos < <(_kvmtunectl_positionals "$verb" "$usage")
	if ((n < ${#pos[@]})); then
		kind=${pos[n]}
	elif ((${#pos[@]} > 0)) && [[ ${pos[-1]} == *... ]]; then
		kind=${pos[-1]}
	fi
	case $kind in
	VM*) COMPREPLY=($(compgen -W "$(_kvmtunectl_vms "$cmd" "${global[@]}")" -- "$cur")) ;;
	*FILE* | *DIR*) _filedir '@(yaml|yml)' ;;
	--) COMPREPLY=(--) ;;
	esac
}
complete -F _kvmtunectl kvmtunectl
