# bash completion for dxf: source <(dxf completion bash)
_dxf_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" line files=0 IFS=$'\n'
    local -a out
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ $line == :files ]]; then
            files=1
        elif [[ -n $line ]]; then
            out+=("$line")
        fi
    done < <("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    COMPREPLY=("${out[@]}")
    if (( files )); then
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}
complete -o default -o bashdefault -F _dxf_complete dxf
