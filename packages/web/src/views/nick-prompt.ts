import { isNick } from '../identity.js';

/** What the first screen asks for: a nick, and a token when the cluster wants one. */
export interface SignIn {
  nick: string;
  token: string | undefined;
}

export interface NickPromptElements {
  overlay: HTMLElement;
  form: HTMLFormElement;
  nick: HTMLInputElement;
  token: HTMLInputElement;
  /** Elements shown only with the token field (its label and input). */
  tokenField: HTMLElement[];
  problem: HTMLElement;
}

/**
 * The first screen: asks for a nick, and again with the reason when it was refused.
 * When the cluster requires sign-in, it also asks for a token (with a token the node
 * takes the user's id and nick from it; the nick typed only names this page until then).
 */
export class NickPrompt {
  constructor(private readonly el: NickPromptElements) {}

  ask(suggestion: SignIn, { problem, wantsToken }: { problem?: string; wantsToken: boolean }): Promise<SignIn> {
    const { overlay, form, nick, token } = this.el;
    overlay.hidden = false;
    nick.value = suggestion.nick;
    token.value = suggestion.token ?? '';
    for (const element of this.el.tokenField) element.hidden = !wantsToken;
    this.el.problem.textContent = problem ?? '';
    nick.disabled = false;
    token.disabled = false;
    const first = wantsToken && nick.value !== '' ? token : nick;
    first.focus();
    first.select();
    return new Promise((resolve) => {
      const onSubmit = (event: SubmitEvent) => {
        event.preventDefault();
        const chosen = nick.value.trim();
        const typedToken = token.value.trim();
        if (!isNick(chosen)) {
          this.el.problem.textContent = 'a nick is 1-32 letters, digits or _-[]{}^`| and starts with a letter';
          return;
        }
        if (wantsToken && typedToken === '') {
          this.el.problem.textContent = 'this cluster requires sign-in: paste the token you were given';
          return;
        }
        form.removeEventListener('submit', onSubmit);
        nick.disabled = true;
        token.disabled = true;
        this.el.problem.textContent = 'connecting…';
        resolve({ nick: chosen, token: wantsToken ? typedToken : undefined });
      };
      form.addEventListener('submit', onSubmit);
    });
  }

  hide(): void {
    this.el.overlay.hidden = true;
  }
}
