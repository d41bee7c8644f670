import { NICK_PATTERN } from '../identity.js';

/** The first screen: asks for a nick, and again with the reason when it was refused. */
export class NickPrompt {
  constructor(
    private readonly overlay: HTMLElement,
    private readonly form: HTMLFormElement,
    private readonly input: HTMLInputElement,
    private readonly problem: HTMLElement,
  ) {}

  ask(suggestion: string, problem?: string): Promise<string> {
    this.overlay.hidden = false;
    this.input.value = suggestion;
    this.problem.textContent = problem ?? '';
    this.input.disabled = false;
    this.input.focus();
    this.input.select();
    return new Promise((resolve) => {
      const onSubmit = (event: SubmitEvent) => {
        event.preventDefault();
        const nick = this.input.value.trim();
        if (!NICK_PATTERN.test(nick)) {
          this.problem.textContent = 'a nick is 1-32 letters, digits or _-[]{}^`| and starts with a letter';
          return;
        }
        this.form.removeEventListener('submit', onSubmit);
        this.input.disabled = true;
        this.problem.textContent = 'connecting…';
        resolve(nick);
      };
      this.form.addEventListener('submit', onSubmit);
    });
  }

  hide(): void {
    this.overlay.hidden = true;
  }
}
