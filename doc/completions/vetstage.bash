# bash completion for vetstage                                -*- shell-script -*-
# Commands, subcommands and options come from vetstage's own --help, so they
# stay true; NAME@VERSION from `vetstage cache list`, source names from the
# configuration file.

_vetstage_refs()
{
    vetstage ${1:+--home "$1"} -q cache list 2>/dev/null | awk '$1 ~ /@/ { print $1 }'
}

_vetstage_sources()
{
    local conf=${VETSTAGE_CONFIG:-}
    if [[ -z $conf ]]; then
        local home=${1:-${VETSTAGE_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vetstage}}
        conf=$home/vetstage.conf
    fi
    [[ -r $conf ]] && sed -n 's/^[[:space:]]*\[source[[:space:]]\{1,\}\([^]]*\)\].*/\1/p' "$conf"
}

_vetstage()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local -a words=("${COMP_WORDS[@]}")
    local cword=$COMP_CWORD
    local home="" cmd="" sub="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --home) home=${words[i + 1]}; ((i++)) ;;
        --config) ((i++)) ;;
        -*) ;;
        *)
            if [[ -z $cmd ]]; then cmd=${words[i]}
            elif [[ -z $sub ]]; then sub=${words[i]}; fi
            ;;
        esac
    done
    case $prev in
    --home | --dest | --out | --layout | --config | --netrc-file | --cacert | --gpg-sig | \
    --checksums | --rsa-sig | --task-def | --mirror-dir)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --require)
        COMPREPLY=($(compgen -W "gpg,rsa gpg rsa" -- "$cur"))
        return
        ;;
    --rsa-scheme)
        COMPREPLY=($(compgen -W "pkcs1-sha256 pkcs1-sha384 pkcs1-sha512 pss-sha256 pss-sha384 pss-sha512" -- "$cur"))
        return
        ;;
    --arch)
        COMPREPLY=($(compgen -W "amd64 arm64" -- "$cur"))
        return
        ;;
    esac
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--home --config --json -q -v --no-progress --version --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(vetstage --help 2>/dev/null | awk '/^commands:/ {on=1; next} on && NF {print $1}')" -- "$cur"))
        fi
        return
    fi
    local subs=""
    case $cmd in
    keys) subs="import list remove" ;;
    cache) subs="list show path fsck gc rm" ;;
    layout) subs="check" ;;
    render) subs="sidecar embedded ecs-task" ;;
    mirror) subs="sync export import" ;;
    esac
    if [[ -n $subs && -z $sub ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(vetstage $cmd $sub --help 2>/dev/null | grep -o -- '--[a-z0-9-]\{2,\}' | sort -u)" -- "$cur"))
        return
    fi
    case "$cmd $sub" in
    "stage "* | "cache show" | "cache path" | "cache rm" | "mirror export")
        COMPREPLY=($(compgen -W "$(_vetstage_refs "$home")" -- "$cur"))
        ;;
    "fetch "* | "pull "*)
        local srcs
        srcs=$(_vetstage_sources "$home")
        if [[ -n $srcs && $cur != */* ]]; then
            COMPREPLY=($(compgen -W "$(printf '%s@\n' $srcs)" -- "$cur"))
            compopt -o nospace
        fi
        ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _vetstage vetstage
