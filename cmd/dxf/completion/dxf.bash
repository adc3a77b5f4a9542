# bash completion for dxf: source <(dxf completion bash)
_dxf_complete() {
    # The words are read from the line itself: bash's COMP_WORDS would cut
    # localhost:5000/fred and oci:./data at the colon.
    local line="${COMP_LINE:0:COMP_POINT}" entry files=0 IFS=$' \t\n'
    local -a words out
    read -ra words <<< "$line"
    [[ -z $line || $line == *[[:space:]] ]] && words+=("")
    local cur="${words[${#words[@]}-1]}"
    COMPREPLY=()
    while IFS= read -r entry; do
        if [[ $entry == :files ]]; then
            files=1
        elif [[ -n $entry ]]; then
            out+=("$entry")
        fi
    done < <("${words[0]}" __complete "${words[@]:1}" 2>/dev/null)
    if (( files )); then
        while IFS= read -r entry; do out+=("$entry"); done < <(compgen -f -- "$cur")
    fi
    # Bash replaces only what follows the word's last colon.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon="${cur%"${cur##*:}"}"
        out=("${out[@]#"$colon"}")
    fi
    COMPREPLY=("${out[@]}")
}
complete -o default -o bashdefault -F _dxf_complete dxf
